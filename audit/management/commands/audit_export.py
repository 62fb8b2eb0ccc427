"""``manage.py audit_export --tenant SLUG [--proofs] [--output FILE]``: the auditor's JSON Lines export."""

import sys

from django.core.management.base import BaseCommand, CommandError

from accounts.models import Tenant
from accounts.scoping import dangerously_unscoped
from audit.export import write_export


class Command(BaseCommand):
    help = "Export one tenant's audit log (events, checkpoints, public keys) as JSON Lines."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, help="the tenant's slug")
        parser.add_argument("--proofs", action="store_true", help="add an inclusion proof to every event")
        parser.add_argument("--output", help="file to write (default: standard output)")

    def handle(self, *args, tenant, proofs=False, output=None, **options):
        # An operator's command: the tenant is found by slug, then the export runs in its scope.
        with dangerously_unscoped():
            found = Tenant.objects.filter(slug=tenant).first()
        if found is None:
            raise CommandError(f"no tenant {tenant!r}")
        if output:
            with open(output, "w", encoding="utf-8") as handle:
                write_export(found, handle, proofs=proofs)
        else:
            write_export(found, sys.stdout, proofs=proofs)
