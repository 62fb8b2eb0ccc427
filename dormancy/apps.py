from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DormancyConfig(AppConfig):
    name = "dormancy"
    verbose_name = _("Dormant accounts")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from dormancy import navigation  # noqa: F401 (menu entry)
        from dormancy.jobs import register_jobs
        from dormancy.notices import register_notices

        register_notices()
        register_jobs()
