"""``manage.py audit_demo_witness --vkey-file F --logs F --url URL``: the ``make run`` demo's local witness.

Demo only. Lists every tenant's log in the witness's ``--logs`` file, configures every tenant to submit to
the witness (quorum 1), writes the demo's trust file (witness key and URL, read by ``audit_verify``), and
checkpoints every tenant now so that its latest checkpoint is cosigned. The witness itself runs as its own
process (``python -m audit.witness``) with its key and state under var/witness/, outside the database.
"""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts.models import Tenant
from accounts.scoping import dangerously_unscoped, tenant_scope
from audit import keys, witnessing
from audit.checkpoints import ForkError, make_checkpoint
from audit.models import Witness

NAME = "demo-witness"


class Command(BaseCommand):
    help = "Demo only: configure every tenant to use the local witness of `make run`, and checkpoint them."

    def add_arguments(self, parser):
        parser.add_argument("--vkey-file", required=True, help="file holding the witness's verifier key")
        parser.add_argument("--logs", required=True, help="the witness's list of logs (written)")
        parser.add_argument("--url", required=True, help="the witness's URL")

    def handle(self, *args, vkey_file, logs, url, **options):
        if not keys.demo_keys():
            raise CommandError("demo only (PORTCULLIS_DEMO=1 or DEBUG)")
        vkey = Path(vkey_file).read_text().strip()
        with dangerously_unscoped():  # a platform command over every tenant; each is then handled in its scope
            tenants = list(Tenant.objects.order_by("pk"))
        Path(logs).write_text("".join(f"log {keys.log_vkey(t.pk)}\n" for t in tenants))
        trust = Path(settings.AUDIT_DEMO_WITNESS_FILE)
        trust.parent.mkdir(parents=True, exist_ok=True)
        trust.write_text(f"{vkey} {url}\n")
        for tenant in tenants:
            with tenant_scope(tenant):
                current = Witness.objects.filter(name=NAME).first()
            if current is None:
                witnessing.configure(tenant, add=(NAME, vkey, url), quorum_value=1)
            elif (current.vkey, current.url) != (vkey, url):
                self.stderr.write(f"{tenant.slug}: a different {NAME} is configured; left as it is")
            try:
                checkpoint = make_checkpoint(tenant)
            except ForkError as exc:
                self.stderr.write(f"{tenant.slug}: checkpoint refused: {exc}")
                continue
            state = witnessing.status(tenant)
            cosigned, needed = state["cosigned"], state["quorum"]
            self.stdout.write(f"{tenant.slug}: checkpoint {checkpoint.index} cosigned by {cosigned} of quorum {needed}")
