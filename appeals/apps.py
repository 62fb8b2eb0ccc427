from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AppealsConfig(AppConfig):
    name = "appeals"
    verbose_name = _("Appeals and complaints")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from appeals import navigation  # noqa: F401 (menu entry)
        from appeals.jobs import register_jobs
        from appeals.notices import register_notices, tell_who_lost_access
        from audit.recording import on_record

        register_notices()
        on_record(tell_who_lost_access)
        register_jobs()
