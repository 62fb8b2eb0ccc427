from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TrainingConfig(AppConfig):
    name = "training"
    verbose_name = _("Security training")

    def ready(self):
        from permissions.engine import CACHES_TO_CLEAR
        from permissions.services.gates import GATES
        from permissions.vocabulary import Action, SystemModule
        from portal.navigation import NavEntry, permitted, register
        from reviews.evidence import EVIDENCE_HOOKS
        from training.evidence import add_training_evidence
        from training.gate import clear, require_lessons

        # Every change that gives access asks whether the tenant requires a lesson first (the one check).
        if require_lessons not in GATES:
            GATES.append(require_lessons)
        if clear not in CACHES_TO_CLEAR:
            CACHES_TO_CLEAR.append(clear)
        if add_training_evidence not in EVIDENCE_HOOKS:
            EVIDENCE_HOOKS.append(add_training_evidence)
        register(NavEntry(_("Security lessons"), "training:lessons", _tenant_user, section="account"))
        register(
            NavEntry(
                _("Required lessons"), "training:requirements", permitted(SystemModule.GRANTS, Action.VIEW), "console"
            )
        )


def _tenant_user(user) -> bool:
    return bool(getattr(user, "tenant_id", None))
