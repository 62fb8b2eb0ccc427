"""``manage.py audit_verify [--tenant SLUG]``: recompute every tenant's log; non-zero exit on any problem."""

from django.core.management.base import BaseCommand, CommandError

from audit.escaping import escape_controls
from audit.verify import verify_all


class Command(BaseCommand):
    help = "Verify the audit logs (hashes, chain, Merkle roots, checkpoint signatures and consistency)."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", help="the slug of one tenant (default: every tenant)")

    def handle(self, *args, tenant=None, **options):
        try:
            reports = verify_all(tenant)
        except LookupError as exc:
            raise CommandError(str(exc)) from None
        failed = 0
        for report in reports:
            slug = escape_controls(report.tenant_slug)
            if report.ok:
                self.stdout.write(f"{slug}: OK ({report.events} events, {report.checkpoints} checkpoints)")
                continue
            failed += 1
            for problem in report.problems:
                self.stdout.write(f"{slug}: {escape_controls(str(problem))}")
        if failed:
            raise CommandError(f"{failed} audit log(s) failed verification", returncode=1)
