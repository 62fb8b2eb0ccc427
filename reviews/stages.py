"""The stages of a policy (up to three), each with its reviewers, fallback reviewer and duration.

Stage 1 is the policy's own fields (``reviewer_kind``, ``reviewers``, ``fallback_reviewer``,
``duration_days``); stages 2 and 3 are ``later_stages``. Stage *k* ends at the campaign's opening plus
the durations of stages 1 … *k*: a fixed schedule, whenever the previous stage actually ended.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Stage:
    number: int
    reviewer_kind: str
    fallback_id: int | None
    duration_days: int
    reviewers: list[int] = field(default_factory=list)


def policy_stages(policy) -> list[Stage]:
    """Every stage of ``policy``, first to last."""
    stages = [
        Stage(1, policy.reviewer_kind, policy.fallback_reviewer_id, policy.duration_days, list(policy.reviewers or []))
    ]
    for n, spec in enumerate(policy.later_stages or [], start=2):
        stages.append(
            Stage(
                n,
                spec["reviewer_kind"],
                spec.get("fallback"),
                int(spec["duration_days"]),
                [int(pk) for pk in spec.get("reviewers") or []],
            )
        )
    return stages


def stage_of(policy, number: int) -> Stage:
    """Stage ``number`` of the policy (the last one when the policy now has fewer)."""
    stages = policy_stages(policy)
    return stages[min(number, len(stages)) - 1]


def stage_end(policy, opens_at: datetime, number: int) -> datetime:
    """When stage ``number`` of a campaign that opened at ``opens_at`` ends."""
    days = sum(stage.duration_days for stage in policy_stages(policy)[:number])
    return opens_at + timedelta(days=days)
