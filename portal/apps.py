from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = _("Portal")

    def ready(self):
        from portal import columns

        columns.connect()  # every save checks its values against their columns (FC-2)


class PlatformAdminConfig(AdminConfig):
    """Django's admin, for platform operators only (see portal.admin)."""

    default_site = "portal.admin.PlatformAdminSite"
