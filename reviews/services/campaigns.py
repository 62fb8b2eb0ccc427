"""Campaign life cycle: open when due (exactly once per period), remind, close, cancel.

Every transition is a conditional change of a locked row (``state`` checked under ``select_for_update``),
so a second scheduler run, or a concurrent one, finds nothing left to do.

Lock order, everywhere: the campaign row first, then its items (decisions lock the campaign before the
item, closing locks the campaign before its bulk updates of items). A decision and a close are thus
serialised: the decision commits before the close reads the items, or waits and finds the campaign closed.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

import audit
from accounts.models import User
from audit.events import EventType
from permissions.models import BuiltinRole
from permissions.services.checks import require
from permissions.vocabulary import Action, SystemModule
from reviews import evidence, notify
from reviews.models import (
    ApplyResult,
    Decision,
    FinalSource,
    ItemKind,
    Recommendation,
    ReviewCampaign,
    ReviewItem,
    ReviewPolicy,
    Unanswered,
)
from reviews.routing import Router, Target
from reviews.scheduling import current_period, is_period, next_period, window
from reviews.services.errors import ReviewRefused
from reviews.stages import policy_stages, stage_end

logger = logging.getLogger("portcullis.reviews")
BATCH = 5000


def _campaign_for(policy: ReviewPolicy, period) -> ReviewCampaign:
    """The campaign of (policy, period), created as scheduled if missing (the unique constraint decides races)."""
    existing = ReviewCampaign.objects.filter(policy=policy, period_start=period).first()
    if existing is not None:
        return existing
    opens, due = window(policy, period)
    try:
        with transaction.atomic():
            return ReviewCampaign.objects.create(
                tenant_id=policy.tenant_id,
                policy=policy,
                name=f"{policy.name} · {period.isoformat()}",
                period_start=period,
                opens_at=opens,
                due_at=due,
            )
    except IntegrityError:  # another runner created it first
        return ReviewCampaign.objects.get(policy=policy, period_start=period)


def open_due_campaigns(tenant, now: datetime | None = None) -> int:
    """Open the current period's campaign of every active policy whose window has begun and not ended,
    keep its next period scheduled, and cancel scheduled campaigns that can no longer open."""
    now = now or timezone.now()
    opened = 0
    for policy in ReviewPolicy.objects.filter(active=True).select_related("fallback_reviewer"):
        period = current_period(policy, now)
        if period is None:
            continue
        opens, due = window(policy, period)
        if now < due:  # a period whose window passed while nothing ran is not opened late
            campaign = _campaign_for(policy, period)
            if campaign.state == ReviewCampaign.State.SCHEDULED and open_campaign(campaign, now=now):
                opened += 1
        following = next_period(policy, period)
        if following is not None:
            _campaign_for(policy, following)  # shown as scheduled on the dashboard
    cancel_unopenable(now)
    return opened


def _why_unopenable(campaign: ReviewCampaign, now: datetime) -> str:
    """Why a scheduled campaign will never open ("" while it still may)."""
    policy = campaign.policy
    if now >= campaign.due_at:
        return _("Not opened: its window ended before the scheduler opened it.")
    if not policy.active:
        return ""  # a paused policy: its campaign may still open if the policy is switched back on in time
    if not is_period(policy, campaign.period_start):
        return _("Not opened: the policy's schedule changed and this is no longer one of its periods.")
    current = current_period(policy, now)
    if current is not None and campaign.period_start < current:
        return _("Not opened: a later period of the policy has begun.")
    return ""


def cancel_unopenable(now: datetime | None = None) -> int:
    """Cancel (audited, by the system) every scheduled campaign that can no longer open: its window has
    passed, a later period has begun, or a change of the policy's cadence or start date left it off the
    schedule. Nothing stays "scheduled" forever."""
    now = now or timezone.now()
    cancelled = 0
    for campaign in ReviewCampaign.objects.filter(state=ReviewCampaign.State.SCHEDULED).select_related("policy"):
        reason = _why_unopenable(campaign, now)
        if reason and cancel_campaign(campaign, actor=None, reason=reason, if_scheduled=True):
            cancelled += 1
    return cancelled


def open_campaign(campaign: ReviewCampaign, *, now: datetime | None = None) -> bool:
    """Snapshot the policy's scope into items (evidence frozen now) and open the campaign. False if not scheduled."""
    now = now or timezone.now()
    with transaction.atomic():
        campaign = ReviewCampaign.objects.select_for_update().select_related("policy").get(pk=campaign.pk)
        if campaign.state != ReviewCampaign.State.SCHEDULED:
            return False
        policy = campaign.policy
        candidates, world = evidence.collect(policy, now)
        stages = policy_stages(policy)
        router = Router(policy, world, stages[0], now)
        items = [_item(campaign, c, router) for c in candidates]
        # Each reviewer's items side by side on disk, in the order "My reviews" shows them (user, then access).
        items.sort(key=lambda i: (i.reviewer_id, i.user_id or 0, i.kind != "role", i.access_key))
        ReviewItem.objects.bulk_create(items, batch_size=BATCH)
        campaign.stage, campaign.stage_count, campaign.stage_opened_at = 1, len(stages), campaign.opens_at
        campaign.stage_due_at = min(stage_end(policy, campaign.opens_at, 1), campaign.due_at)
        campaign.state = ReviewCampaign.State.OPEN
        campaign.opened_at = now
        campaign.item_count = len(items)
        campaign.save(
            update_fields=[
                "state",
                "opened_at",
                "item_count",
                "stage",
                "stage_count",
                "stage_opened_at",
                "stage_due_at",
            ]
        )
        reviewers = set(router.load)
        audit.record(
            EventType.REVIEW_CAMPAIGN_OPENED,
            tenant=campaign.tenant,
            target=campaign,
            after={
                "policy": policy.pk,
                "period_start": campaign.period_start.isoformat(),
                "due_at": campaign.due_at.isoformat(),
                "items": len(items),
                "reviewers": len(reviewers),
                "stages": len(stages),
            },
        )
        notify.notify_reviewers(campaign, reviewers, "opened")
    _checkpoint(campaign, "opening_checkpoint")
    return True


def _item(campaign: ReviewCampaign, c, router: Router) -> ReviewItem:
    """The unsaved item of one candidate, routed to its first-stage reviewer."""
    target = Target(c.kind, c.user_id, c.role_id, c.target_id, c.risky, c.route)
    reviewer, routed, delegated_from = router.route(target)
    return ReviewItem(
        tenant_id=campaign.tenant_id,
        campaign_id=campaign.pk,
        access_key=c.access_key,
        kind=c.kind,
        user_id=c.user_id,
        role_id=c.role_id,
        grant_id=c.grant_id,
        target_id=c.target_id,
        route={**c.route, "risky": c.risky},
        snapshot=c.snapshot,
        evidence=c.evidence,
        flagged=c.flagged,
        unused=c.unused,
        recommendation=c.recommendation,
        reasons=c.reasons,
        reviewer_id=reviewer,
        routed=routed,
        delegated_from_id=delegated_from,
    )


def _checkpoint(campaign: ReviewCampaign, field: str) -> None:
    """A signed audit checkpoint at opening and at closing (its index kept on the campaign)."""
    from audit.checkpoints import make_checkpoint

    try:
        with transaction.atomic():
            checkpoint = make_checkpoint(campaign.tenant)
            ReviewCampaign.objects.filter(pk=campaign.pk).update(**{field: checkpoint.index})
    except Exception:  # the campaign stands; a missing checkpoint is visible on its dashboard and logged
        logger.exception("review checkpoint failed", extra={"campaign": campaign.pk})


def send_reminders(tenant, now: datetime | None = None) -> int:
    """Remind reviewers with undecided items at the middle of the window and two days before the end."""
    now = now or timezone.now()
    sent = 0
    for campaign in ReviewCampaign.objects.filter(state=ReviewCampaign.State.OPEN, policy__reminders=True):
        for field, point in (
            ("final_reminder_at", campaign.final_reminder_point),
            ("mid_reminder_at", campaign.mid_point),
        ):
            if now < point or now >= campaign.current_stage_due:
                continue
            with transaction.atomic():
                # Both markers at once when the final one is due: a late runner sends one reminder, not two.
                marks = {field: now, "mid_reminder_at": now} if field == "final_reminder_at" else {field: now}
                claimed = ReviewCampaign.objects.filter(pk=campaign.pk, **{f"{field}__isnull": True}).update(**marks)
                if not claimed:
                    continue
                waiting = (
                    ReviewItem.objects.filter(campaign=campaign, stage=campaign.stage, decision=Decision.PENDING)
                    .values_list("reviewer_id", flat=True)
                    .distinct()
                )
                notify.notify_reviewers(campaign, list(waiting), "reminder")
                sent += 1
            break
    return sent


def close_overdue(tenant, now: datetime | None = None) -> int:
    """End every open campaign's stage whose time has passed: the next stage starts, or the last one closes
    the campaign (a scheduler that was down for two stages' time moves through both in one run)."""
    from reviews.services.stages import end_stage

    now = now or timezone.now()
    ended = 0
    due = Q(stage_due_at__lte=now) | Q(stage_due_at__isnull=True, due_at__lte=now) | Q(due_at__lte=now)
    for campaign in ReviewCampaign.objects.filter(due, state=ReviewCampaign.State.OPEN):
        while campaign.is_open and campaign.current_stage_due <= now:
            # The stage seen due is passed on: a concurrent run that already ended it makes this a no-op.
            if not end_stage(campaign, actor=None, now=now, stage=campaign.stage):
                break
            ended += 1
            campaign.refresh_from_db()
    return ended


def _resolve_unanswered(campaign: ReviewCampaign, policy: ReviewPolicy) -> dict:
    items = ReviewItem.objects.filter(campaign=campaign)
    items.exclude(decision=Decision.PENDING).update(final_decision=F("decision"), final_source=FinalSource.REVIEWER)
    pending = items.filter(decision=Decision.PENDING)
    if policy.unanswered == Unanswered.REVOKE:
        pending.update(final_decision=Decision.REVOKE, final_source=FinalSource.UNANSWERED)
    elif policy.unanswered == Unanswered.RECOMMENDATION:
        pending.filter(recommendation=Recommendation.REVOKE).update(
            final_decision=Decision.REVOKE, final_source=FinalSource.UNANSWERED
        )
    pending.filter(final_decision="").update(final_decision=Decision.KEEP, final_source=FinalSource.UNANSWERED)
    # Safety net: no item leaves closing without a final decision. Decisions lock the campaign row first, so
    # none can commit between the updates above; should any writer ever not, its decision still counts.
    unresolved = items.filter(final_decision="")
    unresolved.exclude(decision=Decision.PENDING).update(
        final_decision=F("decision"), final_source=FinalSource.REVIEWER
    )
    unresolved.update(final_decision=Decision.KEEP, final_source=FinalSource.UNANSWERED)
    return _guard(campaign, policy)


def _guard(campaign: ReviewCampaign, policy: ReviewPolicy) -> dict:
    """Blast-radius guards: unanswered items never revoke more than the set share of a role's members,
    and no decision removes the tenant's last active administrator."""
    items = ReviewItem.objects.filter(campaign=campaign)
    guarded = {"share": 0, "last_admin": 0}
    # Access that many people hold (a group's grant, a role's matrix, a sharing rule) is never revoked by default.
    guarded["shared"] = items.filter(
        final_source=FinalSource.UNANSWERED,
        final_decision=Decision.REVOKE,
        kind__in=[ItemKind.GROUP_GRANT, ItemKind.MATRIX, ItemKind.SHARING],
    ).update(
        final_decision=Decision.KEEP,
        final_source=FinalSource.GUARD,
        final_note=_("Not revoked: access that many people hold is revoked only by a reviewer"),
    )
    role_size = dict(
        User.objects.filter(is_active=True).values("role_id").annotate(n=Count("pk")).values_list("role_id", "n")
    )
    auto = (
        items.filter(final_source=FinalSource.UNANSWERED, final_decision=Decision.REVOKE)
        .values("user__role_id")
        .annotate(n=Count("user_id", distinct=True))
    )
    for row in auto:
        limit = role_size.get(row["user__role_id"], 0) * policy.max_revoke_percent // 100
        if row["n"] > limit:
            guarded["share"] += items.filter(
                final_source=FinalSource.UNANSWERED, final_decision=Decision.REVOKE, user__role_id=row["user__role_id"]
            ).update(
                final_decision=Decision.KEEP,
                final_source=FinalSource.GUARD,
                final_note=_("Not revoked: more than %(percent)s%% of the role at once")
                % {"percent": policy.max_revoke_percent},
            )
    admins = set(User.objects.filter(is_active=True, role__key=BuiltinRole.ADMINISTRATOR).values_list("pk", flat=True))
    losing = list(
        items.filter(
            kind=ItemKind.ROLE,
            role__key=BuiltinRole.ADMINISTRATOR,
            final_decision__in=[Decision.REVOKE, Decision.REDUCE],
            user_id__in=admins,
        )
        .order_by("final_source", "id")
        .values_list("pk", "user_id")
    )
    if admins and len({user for _, user in losing}) >= len(admins):
        keep = losing[-1][0]
        guarded["last_admin"] = items.filter(pk=keep).update(
            final_decision=Decision.KEEP,
            final_source=FinalSource.GUARD,
            final_note=_("Not revoked: the last administrator"),
        )
    return guarded


def close_campaign(campaign: ReviewCampaign, *, actor, now: datetime | None = None) -> bool:
    """Close an open campaign: decisions freeze, unanswered items get the policy's default (guarded)."""
    now = now or timezone.now()
    if actor is not None:
        require(actor, Action.CHANGE, SystemModule.REVIEWS)
    with transaction.atomic():
        campaign = ReviewCampaign.objects.select_for_update().select_related("policy").get(pk=campaign.pk)
        if campaign.state != ReviewCampaign.State.OPEN:
            return False
        guarded = _resolve_unanswered(campaign, campaign.policy)
        ReviewItem.objects.filter(campaign=campaign, final_decision=Decision.KEEP).update(
            apply_result=ApplyResult.NOTHING, applied_at=now
        )
        campaign.state = ReviewCampaign.State.CLOSED
        campaign.closed_at = now
        campaign.save(update_fields=["state", "closed_at"])
        counts = dict(
            ReviewItem.objects.filter(campaign=campaign)
            .values("final_decision")
            .annotate(n=Count("pk"))
            .values_list("final_decision", "n")
        )
        unanswered = ReviewItem.objects.filter(campaign=campaign, decision=Decision.PENDING).count()
        audit.record(
            EventType.REVIEW_CAMPAIGN_CLOSED,
            tenant=campaign.tenant,
            actor=actor,
            target=campaign,
            before={"state": "open"},
            after={"state": "closed", "decisions": counts, "unanswered": unanswered, "guarded": guarded},
        )
        reviewers = ReviewItem.objects.filter(campaign=campaign).values_list("reviewer_id", flat=True).distinct()
        notify.notify_reviewers(campaign, list(reviewers), "closed")
    _checkpoint(campaign, "closing_checkpoint")
    return True


@transaction.atomic
def cancel_campaign(campaign: ReviewCampaign, *, actor, reason: str, if_scheduled: bool = False) -> bool:
    """Cancel a scheduled or open campaign (only a scheduled one with ``if_scheduled``): nothing of it is
    applied. Needs reviews: change (``actor`` None: the scheduler)."""
    require(actor, Action.CHANGE, SystemModule.REVIEWS)
    if not (reason or "").strip():
        raise ReviewRefused(_("Say why the campaign is cancelled."))
    campaign = ReviewCampaign.objects.select_for_update().get(pk=campaign.pk)
    allowed = (
        (ReviewCampaign.State.SCHEDULED,)
        if if_scheduled
        else (ReviewCampaign.State.SCHEDULED, ReviewCampaign.State.OPEN)
    )
    if campaign.state not in allowed:
        return False
    before = campaign.state
    campaign.state = ReviewCampaign.State.CANCELLED
    campaign.cancelled_at = timezone.now()
    campaign.save(update_fields=["state", "cancelled_at"])
    audit.record(
        EventType.REVIEW_CAMPAIGN_CANCELLED,
        tenant=campaign.tenant,
        actor=actor,
        target=campaign,
        before={"state": before},
        after={"state": campaign.state},
        reason=reason,
    )
    return True


def progress(campaign: ReviewCampaign) -> dict:
    """Overall and per-reviewer progress, and the count of each decision (a constant number of queries)."""
    items = ReviewItem.objects.filter(campaign=campaign)
    total = items.count()
    decided = items.exclude(decision=Decision.PENDING).count()
    per = (
        items.values("reviewer_id", "reviewer__email")
        .annotate(total=Count("pk"), done=Count("pk", filter=~Q(decision=Decision.PENDING)))
        .order_by("reviewer__email")
    )
    by_decision = dict(items.values("decision").annotate(n=Count("pk")).values_list("decision", "n"))
    applied = dict(items.values("apply_result").annotate(n=Count("pk")).values_list("apply_result", "n"))
    return {"total": total, "decided": decided, "reviewers": list(per), "by_decision": by_decision, "applied": applied}
