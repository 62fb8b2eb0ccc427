from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntelligenceConfig(AppConfig):
    name = "intelligence"
    verbose_name = _("Access intelligence")

    def ready(self):
        from audit.recording import on_record
        from intelligence import counting, navigation  # noqa: F401  (menu entries)
        from intelligence.feedback import on_review_decided
        from intelligence.jobs import register_jobs
        from permissions import usage

        register_jobs()
        usage.add_listener(counting.count_use, counting.flush)
        on_record(on_review_decided)
