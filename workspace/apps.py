from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkspaceConfig(AppConfig):
    name = "workspace"
    verbose_name = _("Workspace")

    def ready(self):
        from portal.navigation import NavEntry, register, register_provider
        from workspace.access import nav_entries

        register_provider(nav_entries)
        register(NavEntry(_("My access"), "workspace:my_access", _tenant_user, section="account"))


def _tenant_user(user) -> bool:
    return bool(getattr(user, "tenant_id", None))
