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

from reviews.models.delegations import ReviewDelegation  # noqa: E402
from reviews.models.items import (  # noqa: E402
    PERSONAL_KINDS,
    REDUCIBLE_KINDS,
    ApplyResult,
    FinalSource,
    StageDecision,
)

__all__ += ["PERSONAL_KINDS", "REDUCIBLE_KINDS", "ApplyResult", "FinalSource", "ReviewDelegation", "StageDecision"]
