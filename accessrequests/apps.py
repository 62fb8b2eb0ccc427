from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccessRequestsConfig(AppConfig):
    name = "accessrequests"
    verbose_name = _("Access requests")

    def ready(self):
        from accessrequests import navigation  # noqa: F401 (menu entries)
        from accessrequests.jobs import register_jobs

        register_jobs()
