"""Multi-stage campaigns: when a stage ends, its decisions are kept (``StageDecision``) and what it did not
revoke or reduce moves to the next stage's reviewers; what it revoked is not asked again.

``end_stage`` is the one door: it advances a campaign that has a next stage and closes one on its last
stage. Like every writer of items it locks the campaign row first and checks its state and stage, so a
second or concurrent run finds nothing to do.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from django.db import transaction
from django.utils import timezone

import audit
from audit.events import EventType
from permissions.services.checks import require
from permissions.vocabulary import Action, SystemModule
from reviews import notify
from reviews.kinds import world_at
from reviews.models import Decision, ReviewCampaign, ReviewItem, StageDecision
from reviews.routing import Router, target_of
from reviews.stages import stage_end, stage_of

CHUNK = 2000
#: What a stage decided that ends the item's review: later stages do not ask again.
SETTLED = [Decision.REVOKE, Decision.REDUCE]
_ROUTE_FIELDS = ("pk", "kind", "user_id", "role_id", "target_id", "route")


def end_stage(campaign: ReviewCampaign, *, actor, stage: int, now: datetime | None = None) -> bool:
    """End stage ``stage`` of the campaign: start the next one, or close the campaign after its last stage.
    False when the campaign is no longer at that stage (another run ended it) or not open."""
    from reviews.services.campaigns import close_campaign

    campaign = ReviewCampaign.objects.select_related("policy").get(pk=campaign.pk)
    if campaign.stage != stage:
        return False
    if campaign.is_last_stage:
        return close_campaign(campaign, actor=actor, now=now)
    return advance_stage(campaign, actor=actor, now=now, stage=stage)


def _keep_history(campaign: ReviewCampaign, stage: int) -> None:
    rows = ReviewItem.objects.filter(campaign=campaign, stage=stage).values_list(
        "pk", "reviewer_id", "decision", "justification", "decided_by_id", "decided_at"
    )
    StageDecision.objects.bulk_create(
        [
            StageDecision(
                tenant_id=campaign.tenant_id,
                item_id=pk,
                stage=stage,
                reviewer_id=reviewer,
                decision=decision,
                justification=justification,
                decided_by_id=decided_by,
                decided_at=decided_at,
            )
            for pk, reviewer, decision, justification, decided_by, decided_at in rows.iterator(chunk_size=CHUNK)
        ],
        batch_size=CHUNK,
    )


def _move_on(campaign: ReviewCampaign, stage: int, now: datetime) -> tuple[int, set]:
    """Route the items the ended stage kept or left undecided to the next stage's reviewers."""
    policy = campaign.policy
    moving = ReviewItem.objects.filter(campaign=campaign, stage=stage).exclude(decision__in=SETTLED)
    rows = list(moving.values(*_ROUTE_FIELDS))
    if not rows:
        return 0, set()
    world = world_at(now)
    router = Router(policy, world, stage_of(policy, stage + 1), now)
    groups: dict[tuple, list[int]] = defaultdict(list)
    for row in rows:
        groups[router.route(target_of(row))].append(row["pk"])
    for (reviewer, routed, source), ids in groups.items():
        for start in range(0, len(ids), CHUNK):
            ReviewItem.objects.filter(pk__in=ids[start : start + CHUNK]).update(
                stage=stage + 1,
                reviewer_id=reviewer,
                routed=routed,
                delegated_from_id=source,
                decision=Decision.PENDING,
                justification="",
                reduce_expires_at=None,
                reduce_role=None,
                decided_by=None,
                decided_at=None,
                decided_in_bulk=False,
            )
    return len(rows), {reviewer for reviewer, _routed, _source in groups}


def advance_stage(campaign: ReviewCampaign, *, actor, stage: int, now: datetime | None = None) -> bool:
    """End stage ``stage`` of an open campaign and start the next (False: not open, or not at that stage)."""
    now = now or timezone.now()
    if actor is not None:
        require(actor, Action.CHANGE, SystemModule.REVIEWS)
    with transaction.atomic():
        campaign = ReviewCampaign.objects.select_for_update().select_related("policy", "tenant").get(pk=campaign.pk)
        if not campaign.is_open or campaign.stage != stage or campaign.is_last_stage:
            return False
        _keep_history(campaign, stage)
        settled = ReviewItem.objects.filter(campaign=campaign, stage=stage, decision__in=SETTLED).count()
        moved, reviewers = _move_on(campaign, stage, now)
        campaign.stage = stage + 1
        campaign.stage_opened_at = now
        campaign.stage_due_at = min(stage_end(campaign.policy, campaign.opens_at, stage + 1), campaign.due_at)
        if campaign.is_last_stage:
            campaign.stage_due_at = campaign.due_at
        campaign.mid_reminder_at = campaign.final_reminder_at = None
        campaign.save(
            update_fields=["stage", "stage_opened_at", "stage_due_at", "mid_reminder_at", "final_reminder_at"]
        )
        audit.record(
            EventType.REVIEW_STAGE_ADVANCED,
            tenant=campaign.tenant,
            actor=actor,
            target=campaign,
            before={"stage": stage},
            after={"stage": stage + 1, "moved": moved, "settled": settled, "reviewers": len(reviewers)},
        )
        notify.notify_reviewers(campaign, reviewers, "opened")
    return True
