from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrationConfig(AppConfig):
    name = "integration"
    verbose_name = _("Import and export")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from integration import navigation  # noqa: F401 (menu entry)
