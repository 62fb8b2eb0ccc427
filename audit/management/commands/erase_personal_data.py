"""``manage.py erase_personal_data SLUG USER_ID --reason "..."``: erase one person's clear personal values from
a tenant's audit trail (a data subject's erasure request; docs/audit-operations.md, section 5).

Runs ``audit.personal.erase_subject``: the events keep their salted commitments, so the chain, the Merkle
roots and every checkpoint still verify; the erasure is itself recorded in the tenant's trail. A platform
operator's act (the tenant's own administrators have no screen for it), hence a command.
"""

from django.core.management.base import BaseCommand, CommandError

from accounts.models import Tenant
from accounts.scoping import dangerously_unscoped, tenant_scope
from audit.escaping import escape_controls
from audit.personal import erase_subject


class Command(BaseCommand):
    help = "Erase one person's clear personal values from a tenant's audit trail (the chain still verifies)."

    def add_arguments(self, parser):
        parser.add_argument("slug", help="the tenant's slug")
        parser.add_argument("user_id", type=int, help="the id of the person (a user of the tenant, or a former one)")
        parser.add_argument("--reason", required=True, help="why (recorded; no personal data in it)")

    def handle(self, *args, slug, user_id, reason, **options):
        reason = (reason or "").strip()
        if not reason:
            raise CommandError("give a reason with --reason")
        with dangerously_unscoped():  # the operator names the tenant; the erasure then runs in its scope
            tenant = Tenant.objects.filter(slug=slug).first()
        if tenant is None:
            raise CommandError(f"no tenant {escape_controls(slug)!r}")
        with tenant_scope(tenant):
            count = erase_subject(tenant, user_id, actor=None, reason=reason)
        shown = escape_controls(tenant.slug)
        self.stdout.write(
            f"Erased {count} personal value(s) about user #{user_id} from the audit trail of {shown}; "
            f"check it with manage.py audit_verify --tenant {shown}."
        )
