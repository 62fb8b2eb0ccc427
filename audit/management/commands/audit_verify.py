"""``manage.py audit_verify [--tenant SLUG] [trusted inputs]``: recompute every tenant's log; non-zero exit on
any problem. The trusted inputs (witness keys, quorum, kept checkpoints, witness URLs) come from the command
line or the settings, never from the database (docs/audit-operations.md)."""

from django.core.management.base import BaseCommand, CommandError

from audit import signednote
from audit.escaping import escape_controls
from audit.verify import verify_all
from audit.verify_export import load_trusted_checkpoints


class Command(BaseCommand):
    help = "Verify the audit logs (hashes, chain, Merkle roots, checkpoints, witnesses, roots of trust)."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", help="the slug of one tenant (default: every tenant)")
        parser.add_argument("--witness", action="append", help="a trusted witness's verifier key (repeatable)")
        parser.add_argument("--quorum", type=int, help="witness cosignatures each checkpoint needs")
        parser.add_argument(
            "--trusted-checkpoint", action="append", default=[], help="a checkpoint kept outside (note or export)"
        )
        parser.add_argument("--witness-url", action="append", help="a witness whose latest checkpoint to fetch")

    def handle(self, *args, tenant=None, witness=None, quorum=None, trusted_checkpoint=(), witness_url=None, **o):
        try:
            trusted = {
                "witnesses": [signednote.parse_vkey(v) for v in witness] if witness else None,
                "quorum": quorum,
                "checkpoints": [n for path in trusted_checkpoint for n in load_trusted_checkpoints(path)],
                "witness_urls": witness_url,
            }
            reports = verify_all(tenant, **trusted)
        except (LookupError, OSError, ValueError) as exc:
            raise CommandError(escape_controls(str(exc))) from None
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
