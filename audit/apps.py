from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = _("Audit trail")

    def ready(self):
        from audit import checks  # noqa: F401  (registers the start-up checks)
        from audit.access import can_view_audit
        from portal.navigation import GOVERNANCE, NavEntry, register

        register(NavEntry(_("Audit log"), "audit:events", can_view_audit, GOVERNANCE))

        from audit.checkpoints import make_due_checkpoints
        from portal import jobs

        # A platform job: it visits each tenant in that tenant's own scope.
        jobs.register("audit-checkpoints", lambda now: len(make_due_checkpoints(now)), per_tenant=False, last=True)
