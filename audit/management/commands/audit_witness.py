"""``manage.py audit_witness --tenant SLUG (--list | --add NAME VKEY URL | --remove NAME | --quorum K | --log-vkey)``.

Configures the witnesses a tenant's checkpoints are submitted to, and their quorum (audited changes);
``--log-vkey`` prints the verifier key a witness must trust for this tenant's log (``log <vkey>``).
"""

from django.core.management.base import BaseCommand, CommandError

from accounts.models import Tenant
from accounts.scoping import dangerously_unscoped
from audit import keys, witnessing
from audit.escaping import escape_controls


class Command(BaseCommand):
    help = "Configure a tenant's audit witnesses and quorum, or print its log's verifier key."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, help="the tenant's slug")
        parser.add_argument("--add", nargs=3, metavar=("NAME", "VKEY", "URL"), help="add a witness")
        parser.add_argument("--remove", metavar="NAME", help="remove a witness that never answered")
        parser.add_argument("--quorum", type=int, help="cosignatures a checkpoint needs")
        parser.add_argument("--log-vkey", action="store_true", help="print the log's verifier key")
        parser.add_argument("--list", action="store_true", help="list the witnesses")

    def handle(self, *args, tenant, add=None, remove=None, quorum=None, log_vkey=False, list=False, **options):  # noqa: A002
        with dangerously_unscoped():  # the operator names the tenant; the work runs in its scope
            found = Tenant.objects.filter(slug=tenant).first()
        if found is None:
            raise CommandError(f"no tenant {tenant!r}")
        if log_vkey:
            self.stdout.write(keys.log_vkey(found.pk))
            return
        if add or remove or quorum is not None:
            try:
                witnessing.configure(found, add=add, remove=remove, quorum_value=quorum)
            except ValueError as exc:
                raise CommandError(escape_controls(str(exc))) from None
        state = witnessing.status(found)
        for witness in state["witnesses"]:
            self.stdout.write(f"{escape_controls(witness.name)} {witness.url} {witness.vkey}")
        self.stdout.write(f"quorum {state['quorum']} of {len(state['witnesses'])}")
