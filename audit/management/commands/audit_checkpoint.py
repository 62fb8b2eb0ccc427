"""``manage.py audit_checkpoint [--tenant SLUG]``: sign checkpoints now (default: every tenant that is due)."""

from django.core.management.base import BaseCommand, CommandError

from accounts.models import Tenant
from accounts.scoping import dangerously_unscoped
from audit.checkpoints import ForkError, make_checkpoint, make_due_checkpoints


class Command(BaseCommand):
    help = "Sign audit checkpoints: one tenant on demand, or every tenant whose checkpoint is due."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", help="the slug of one tenant, checkpointed now")

    def handle(self, *args, tenant=None, **options):
        if tenant is None:
            made = make_due_checkpoints()
            self.stdout.write(f"{len(made)} checkpoint(s) signed")
            return
        with dangerously_unscoped():  # the operator names the tenant; the work runs in its scope
            found = Tenant.objects.filter(slug=tenant).first()
        if found is None:
            raise CommandError(f"no tenant {tenant!r}")
        try:
            checkpoint = make_checkpoint(found)
        except ForkError as exc:
            raise CommandError(f"refused: {exc}") from None
        self.stdout.write(f"checkpoint {checkpoint.index}: {checkpoint.tree_size} events, root {checkpoint.root_hash}")
