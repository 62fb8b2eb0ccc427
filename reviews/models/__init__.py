"""Access reviews: policies (what, who, when), campaigns (one run of a policy), items (one user × access)."""

from reviews.models.campaigns import ReviewCampaign
from reviews.models.items import Decision, ItemKind, Recommendation, ReviewItem
from reviews.models.policies import Cadence, ReviewerKind, ReviewPolicy, ScopeMode, Unanswered

__all__ = [
    "Cadence",
    "Decision",
    "ItemKind",
    "Recommendation",
    "ReviewCampaign",
    "ReviewItem",
    "ReviewPolicy",
    "ReviewerKind",
    "ScopeMode",
    "Unanswered",
]

from reviews.models.items import ApplyResult, FinalSource  # noqa: E402

__all__ += ["ApplyResult", "FinalSource"]
