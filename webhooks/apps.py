from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = _("Webhooks")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from audit.recording import on_record
        from webhooks import navigation  # noqa: F401 (menu entry)
        from webhooks.outbox import enqueue_for_audit_event, register_jobs

        on_record(enqueue_for_audit_event)
        register_jobs()
