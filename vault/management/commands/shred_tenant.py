"""``manage.py shred_tenant SLUG --reason "..." [--yes]``: crypto-shred one tenant (docs/encryption.md).

Destroys every key of the tenant (its encrypted values can never be read again), erases the clear personal
values of its audit trail, forgets its users (e-mail, name, password, sessions) and deactivates it, in one
audited transaction (``vault.services.shred_tenant``).
Asks the operator to type the slug unless ``--yes``. Other tenants are untouched; both logs still verify.
"""

import sys

from django.core.management.base import BaseCommand, CommandError

from accounts.models import Tenant
from accounts.scoping import dangerously_unscoped
from audit.escaping import escape_controls
from vault import services


class Command(BaseCommand):
    help = (
        "Crypto-shred a tenant: destroy its keys (its encrypted values can never be read again), erase the clear "
        "personal data of its audit trail and deactivate it. Irreversible; audited."
    )
    stealth_options = ("stdin",)

    def add_arguments(self, parser):
        parser.add_argument("slug", help="the tenant's slug")
        parser.add_argument("--reason", required=True, help="why (recorded in the tenant's audit log)")
        parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    def handle(self, *args, slug, reason, yes=False, **options):
        reason = (reason or "").strip()
        if not reason:
            raise CommandError("give a reason with --reason")
        with dangerously_unscoped():  # the operator names the tenant; the service then runs in its scope
            tenant = Tenant.objects.filter(slug=slug).first()
        if tenant is None:
            raise CommandError(f"no tenant {escape_controls(slug)!r}")
        shown = f"{escape_controls(tenant.slug)} ({escape_controls(tenant.name)})"
        if not yes:
            stdin = options.get("stdin") or sys.stdin
            self.stdout.write(
                f"This destroys every key of tenant {shown}: its encrypted values and the clear personal data of "
                "its audit trail can never be read again, and the tenant is deactivated."
            )
            self.stdout.write("Type the tenant's slug to confirm: ", ending="")
            self.stdout.flush()
            answer = stdin.readline().strip()
            if answer != tenant.slug:
                raise CommandError("not confirmed: nothing was shredded")
        done = services.shred_tenant(tenant, actor=None, reason=reason)
        self.stdout.write(
            f"Shredded tenant {shown}: {done.keys} key(s) destroyed, {done.personal_values} personal value(s) "
            f"erased from the audit trail, {done.users} user(s) forgotten (e-mail, name and password replaced, "
            "sessions ended); the tenant is deactivated. Its audit log keeps only commitments: "
            f"check it with manage.py audit_verify --tenant {escape_controls(tenant.slug)}."
        )
