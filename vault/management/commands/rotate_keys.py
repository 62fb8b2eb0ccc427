from django.core.management.base import BaseCommand, CommandError

from accounts.models import Tenant
from accounts.scoping import dangerously_unscoped
from audit.escaping import escape_controls
from vault import masterkeys, services


class Command(BaseCommand):
    help = (
        "Re-wrap every tenant's keys under the newest master key; with --reencrypt also give each tenant a new "
        "data key and re-encrypt its values in batches (resumable; the portal keeps serving)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--reencrypt", action="store_true", help="new data keys, then re-encrypt every value")
        parser.add_argument("--resume", action="store_true", help="re-encrypt what is left, without a new data key")
        parser.add_argument("--tenant", metavar="SLUG", help="only this tenant (with --reencrypt/--resume)")
        parser.add_argument("--batch-size", type=int, default=500)
        parser.add_argument(
            "--new-master-key", metavar="ID", help="print a new master key entry to append to PORTCULLIS_MASTER_KEYS"
        )

    def handle(self, *args, reencrypt=False, resume=False, tenant=None, batch_size=500, new_master_key=None, **opts):
        if new_master_key:
            self.stdout.write(masterkeys.generate_entry(new_master_key))
            return
        rewrapped = services.rewrap_all()
        self.stdout.write(f"re-wrapped {rewrapped} key(s) under master key {masterkeys.load().current_id}")
        if not (reencrypt or resume):
            return
        with dangerously_unscoped():  # the operator names the tenants to visit; each runs in its own scope
            tenants = list(Tenant.objects.filter(slug=tenant) if tenant else Tenant.objects.filter(is_active=True))
        if tenant and not tenants:
            raise CommandError(f"no tenant {tenant!r}")
        for each in tenants:
            if reencrypt:
                key = services.rotate_data_key(each)
                self.stdout.write(f"{escape_controls(each.slug)}: new data key v{key.version}")
            count = services.reencrypt(each, batch_size=batch_size)
            left = services.pending_values(each)
            self.stdout.write(f"{escape_controls(each.slug)}: re-encrypted {count} value(s); {left} left")
