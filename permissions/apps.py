from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PermissionsConfig(AppConfig):
    name = "permissions"
    verbose_name = _("Permissions")

    def ready(self):
        from permissions.lookups import AnyOf
        from permissions.models import Resource

        Resource._meta.get_field("owner_organisation").register_lookup(AnyOf)
        from permissions.services.breakglass import apply_due_changes
        from permissions.services.grants import expire_due_grants
        from portal import jobs

        # Expired grants stopped working at their instant already; the job records grant.expired events.
        jobs.register("expire-grants", lambda tenant, now: expire_due_grants(tenant=tenant, now=now))
        # A sole administrator's break-glass change applies once its cooling-off period has passed.
        jobs.register("break-glass", apply_due_changes)
        # Organisation administrators manage people: MFA is required of them under every tenant policy,
        # and they find their screens in the menu.
        from django.utils.translation import gettext_lazy as _

        from accounts.policy import PRIVILEGED_CHECKS
        from permissions.services.delegated import administers_an_organisation
        from portal.navigation import NavEntry, register

        if administers_an_organisation not in PRIVILEGED_CHECKS:
            PRIVILEGED_CHECKS.append(administers_an_organisation)
        register(NavEntry(_("My organisations"), "console:my_organisations", administers_an_organisation))
