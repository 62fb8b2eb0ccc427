from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReviewsConfig(AppConfig):
    name = "reviews"
    verbose_name = _("Access reviews")

    def ready(self):
        from accounts.policy import PRIVILEGED_CHECKS
        from portal import worklist
        from portal.navigation import GOVERNANCE, NavEntry, register
        from reviews.jobs import register_jobs
        from reviews.services.policies import may_review

        register_jobs()
        from permissions.sod import flag_candidates
        from reviews.evidence import EVIDENCE_HOOKS

        if flag_candidates not in EVIDENCE_HOOKS:  # separation-of-duties violations flag the items that make them
            EVIDENCE_HOOKS.append(flag_candidates)
        register(NavEntry(_("My reviews"), "reviews:mine", worklist.is_reviewer, count=worklist.my_open_review_count))
        register(NavEntry(_("Access reviews"), "reviews:campaigns", worklist.sees_campaigns, GOVERNANCE))
        # Reviewers decide who keeps access: MFA is required of them under every tenant policy.
        if may_review not in PRIVILEGED_CHECKS:
            PRIVILEGED_CHECKS.append(may_review)
