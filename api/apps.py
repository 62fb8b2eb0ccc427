from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = _("API")

    def ready(self):
        from api import schema  # noqa: F401  (registers the OpenAPI authentication extensions)
        from permissions.vocabulary import Action
        from portal.navigation import ADMINISTRATION, NavEntry, permitted, register

        register(NavEntry(_("API keys"), "api:keys", permitted("settings", Action.CHANGE), ADMINISTRATION))
