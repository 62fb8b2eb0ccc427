"""Escalation and delegation of open items (the scheduler's ``reviews.escalate``, every run).

For the current stage of every open campaign, the undecided items of a reviewer move:
- to their delegate, while the reviewer's delegation is active (``delegated``, one hop, never on to a
  delegate's own delegate);
- to the stage's fallback reviewer, when the reviewer is no longer active or may no longer review
  (``escalated``), or when the stage has run for the policy's ``escalate_after_days`` (overdue);
never to someone whose access the item is (then to the least-loaded administrator, or it stays).

Each move is one conditional update under the campaign row lock (items already moved no longer match),
audited as ``review.escalated`` with who, to whom, why and how many; a second or concurrent run, or a
run after a crash, finds nothing left to move.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

import audit
from accounts.models import User
from audit.events import EventType
from permissions.models import BuiltinRole
from reviews import notify
from reviews.models import Decision, ReviewCampaign, ReviewDelegation, ReviewItem
from reviews.services.policies import may_review
from reviews.sod import own_access_q
from reviews.stages import stage_of


def _successors(first_id: int | None, exclude: int) -> list:
    """Who may take items over: ``first_id`` (the delegate or the fallback), then the administrators."""
    people = []
    first = User.objects.filter(pk=first_id, is_active=True).first() if first_id else None
    if first is not None and first.pk != exclude and may_review(first):
        people.append(first)
    admins = User.objects.filter(is_active=True, role__key=BuiltinRole.ADMINISTRATOR).exclude(pk=exclude).order_by("pk")
    people += [a for a in admins if a.pk != first_id and may_review(a)]
    return people


def _move(campaign, reviewer_id: int, successors: list, routed: str, why: str) -> dict[int, int]:
    """Move the reviewer's undecided items of the current stage, each to the first successor whose access it
    is not. Returns {new reviewer: count}."""
    moved: dict[int, int] = {}
    for person in successors:
        items = ReviewItem.objects.filter(
            campaign=campaign, stage=campaign.stage, reviewer_id=reviewer_id, decision=Decision.PENDING
        )
        if why in ("overdue", "delegated"):  # escalated once per stage; delegated one hop only
            items = items.exclude(routed=routed)
        count = items.exclude(own_access_q(person)).update(
            reviewer_id=person.pk, routed=routed, delegated_from_id=reviewer_id
        )
        if count:
            moved[person.pk] = count
            audit.record(
                EventType.REVIEW_ESCALATED,
                tenant=campaign.tenant,
                target=campaign,
                before={"reviewer": reviewer_id},
                after={"reviewer": person.pk, "items": count, "why": why, "stage": campaign.stage},
            )
    return moved


def _why(campaign, reviewer: User | None, fallback_id, delegations: dict, now: datetime) -> tuple[str, int | None]:
    """Why the reviewer's items move now and to whom first ("" when they stay)."""
    if reviewer is None or not may_review(reviewer):
        return "inactive", fallback_id
    if reviewer.pk in delegations:
        return "delegated", delegations[reviewer.pk]
    days = campaign.policy.escalate_after_days
    if days and reviewer.pk != fallback_id and now >= campaign.current_stage_opened + timedelta(days=days):
        return "overdue", fallback_id
    return "", None


def escalate_campaign(campaign: ReviewCampaign, now: datetime) -> int:
    """Delegate and escalate the current stage's undecided items of one open campaign."""
    with transaction.atomic():
        campaign = ReviewCampaign.objects.select_for_update().select_related("policy", "tenant").get(pk=campaign.pk)
        if not campaign.is_open:
            return 0
        fallback_id = stage_of(campaign.policy, campaign.stage).fallback_id
        delegations = {
            d.delegator_id: d.delegate_id
            for d in ReviewDelegation.objects.filter(ended_at__isnull=True, starts_at__lte=now, ends_at__gt=now)
        }
        waiting = ReviewItem.objects.filter(campaign=campaign, stage=campaign.stage, decision=Decision.PENDING)
        reviewer_ids = sorted(set(waiting.values_list("reviewer_id", flat=True)))
        people = {u.pk: u for u in User.objects.filter(pk__in=reviewer_ids)}
        total, told = 0, set()
        for reviewer_id in reviewer_ids:
            why, first = _why(campaign, people.get(reviewer_id), fallback_id, delegations, now)
            if not why:
                continue
            routed = "delegated" if why == "delegated" else "escalated"
            moved = _move(campaign, reviewer_id, _successors(first, reviewer_id), routed, why)
            total += sum(moved.values())
            told.update(moved)
        if told:
            notify.notify_reviewers(campaign, told, "escalated")
    return total


def escalate(tenant, now: datetime | None = None) -> int:
    """The scheduler's job: every open campaign of the tenant."""
    now = now or timezone.now()
    return sum(
        escalate_campaign(campaign, now) for campaign in ReviewCampaign.objects.filter(state=ReviewCampaign.State.OPEN)
    )
