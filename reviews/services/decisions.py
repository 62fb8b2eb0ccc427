"""Reviewers' decisions: keep, revoke or reduce one item, many at once, or hand an item to someone else."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

import audit
from audit.events import EventType
from permissions import engine
from permissions.models import BuiltinRole, Role
from permissions.services.roles import matrix_of
from permissions.vocabulary import Action, SystemModule
from reviews.models import Decision, ItemKind, Recommendation, ReviewCampaign, ReviewItem
from reviews.services.errors import NOT_OPEN, NOT_REVIEWER, SELF_REVIEW, ReviewRefused
from reviews.services.policies import may_review
from reviews.sod import is_own_access, own_access_q

CHUNK = 2000


def _lock_open_campaign(campaign_id: int, message: str) -> ReviewCampaign:
    """Lock the campaign row, then check that it is open (the state read under the lock is the latest).

    Every change to a campaign's items locks the campaign first and its items after: closing does the
    same (campaign, then its bulk updates of items), so a decision either commits before a close reads
    the items or waits for the close and is refused. Never the other order (no deadlock).
    """
    campaign = (
        ReviewCampaign.objects.select_for_update(of=("self",)).select_related("policy", "tenant").get(pk=campaign_id)
    )
    if campaign.state != ReviewCampaign.State.OPEN:
        raise ReviewRefused(message, code=NOT_OPEN)
    return campaign


def _current_stage(item: ReviewItem) -> None:
    """An item decides at its campaign's current stage only: what an earlier stage settled stays settled."""
    if item.stage != item.campaign.stage:
        raise ReviewRefused(_("An earlier stage already decided this item."), code=NOT_OPEN)


def _locked_item(item: ReviewItem, message: str, *related: str) -> ReviewItem:
    """The item and its campaign, locked in that order (campaign first), the campaign checked open."""
    campaign = _lock_open_campaign(item.campaign_id, message)  # an item never moves to another campaign
    locked = ReviewItem.objects.select_for_update(of=("self",)).select_related(*related).get(pk=item.pk)
    locked.campaign = campaign
    return locked


def _open_for(item: ReviewItem, actor) -> None:
    if actor is None or item.reviewer_id != actor.pk:
        raise ReviewRefused(_("This item is assigned to another reviewer."), code=NOT_REVIEWER)
    _current_stage(item)
    if item.routed != "self" and is_own_access(item, actor):
        raise ReviewRefused(_("Nobody reviews their own access."), code=SELF_REVIEW)
    if not may_review(actor):
        raise ReviewRefused(_("You may not review access."), code=NOT_REVIEWER)


def _needs_justification(item: ReviewItem, decision: str) -> bool:
    policy = item.campaign.policy
    if decision in (Decision.REVOKE, Decision.REDUCE):
        return policy.justify_revoke
    return decision == Decision.KEEP and item.flagged and policy.justify_keep_flagged


def _is_lower(role: Role, than: Role) -> bool:
    """``role`` gives a strict subset of what ``than`` gives (a downgrade)."""
    low, high = matrix_of(role), matrix_of(than)
    return low != high and all(mask & ~high.get(key, 0) == 0 for key, mask in low.items())


def _check_reduce(item: ReviewItem, expires_at: datetime | None, role: Role | None) -> None:
    if not item.reducible:
        raise ReviewRefused(_("Only grants and role memberships can be reduced: keep or revoke this item."))
    if item.kind == ItemKind.GRANT:
        current = item.snapshot.get("expires_at")
        if expires_at is None or expires_at <= timezone.now():
            raise ReviewRefused(_("Choose a new expiry in the future."))
        if current and expires_at >= datetime.fromisoformat(current):
            raise ReviewRefused(_("The new expiry must come before the current one."))
        return
    if role is None or role.pk == item.role_id or item.role is None or not _is_lower(role, item.role):
        raise ReviewRefused(_("Choose a role that gives less than the current one."))


@transaction.atomic
def decide(
    item: ReviewItem,
    *,
    actor,
    decision: str,
    justification: str = "",
    reduce_expires_at: datetime | None = None,
    reduce_role: Role | None = None,
) -> ReviewItem:
    """Record the assigned reviewer's decision on one item (changeable until the campaign closes)."""
    item = _locked_item(item, _("The campaign is not open: decisions can no longer change."), "role")
    _open_for(item, actor)
    decision = Decision(decision)
    if decision == Decision.PENDING:
        raise ReviewRefused(_("Choose keep, revoke or reduce."))
    justification = (justification or "").strip()
    if _needs_justification(item, decision) and not justification:
        raise ReviewRefused(_("This decision needs a justification."))
    if decision == Decision.REDUCE:
        _check_reduce(item, reduce_expires_at, reduce_role)
    before = {"decision": item.decision, "justification": item.justification}
    item.decision = decision
    item.justification = justification
    item.reduce_expires_at = reduce_expires_at if decision == Decision.REDUCE else None
    item.reduce_role = reduce_role if decision == Decision.REDUCE and item.kind == ItemKind.ROLE else None
    item.decided_by = actor
    item.decided_at = timezone.now()
    item.decided_in_bulk = False
    item.save()
    audit.record(
        EventType.REVIEW_DECIDED,
        tenant=item.campaign.tenant,
        actor=actor,
        target=item,
        before=before,
        after={
            "decision": decision.value,
            "campaign": item.campaign_id,
            "access": item.access_key,
            "recommendation": item.recommendation,
            "reduce_expires_at": item.reduce_expires_at.isoformat() if item.reduce_expires_at else None,
            "reduce_role": item.reduce_role.key if item.reduce_role else None,
        },
        reason=justification,
    )
    return item


def bulk_selection(items, *, actor, accept_recommendations: bool):
    """The items a bulk decision would change: the reviewer's own undecided-or-not items of open campaigns,
    never their own access; for "accept recommendations", undecided items with a recommendation."""
    selection = items.filter(reviewer=actor, campaign__state=ReviewCampaign.State.OPEN, stage=F("campaign__stage"))
    selection = selection.exclude(own_access_q(actor) & ~Q(routed="self"))
    if accept_recommendations:
        selection = selection.filter(decision=Decision.PENDING).exclude(recommendation=Recommendation.NONE)
    return selection


@transaction.atomic
def bulk_decide(items, *, actor, decision: str | None, justification: str = "", expected: int) -> int:
    """Decide every item of a filtered selection at once (``decision`` None: accept each recommendation).

    ``expected`` is the count the reviewer confirmed; a selection that changed since is refused.
    """
    if not may_review(actor):
        raise ReviewRefused(_("You may not review access."), code=NOT_REVIEWER)
    accept = decision is None
    selection = bulk_selection(items, actor=actor, accept_recommendations=accept)
    # The campaigns first (in id order, as every writer of items locks them), then their items; a campaign
    # that closed while we waited for its lock is refused rather than changed after closing.
    campaign_ids = list(selection.order_by().values_list("campaign_id", flat=True).distinct())
    locked = {
        c.pk: c
        for c in ReviewCampaign.objects.select_for_update(of=("self",))
        .select_related("policy")
        .filter(pk__in=campaign_ids)
        .order_by("pk")
    }
    if any(c.state != ReviewCampaign.State.OPEN for c in locked.values()):
        raise ReviewRefused(_("The campaign is not open: decisions can no longer change."), code=NOT_OPEN)
    rows = list(selection.filter(campaign_id__in=list(locked)).select_for_update(of=("self",)))
    for row in rows:
        row.campaign = locked[row.campaign_id]
    if len(rows) != expected:
        raise ReviewRefused(
            _("The selection changed: %(count)s items match now. Confirm again.") % {"count": len(rows)}
        )
    justification = (justification or "").strip()
    now = timezone.now()
    by_decision: dict[str, list[int]] = {}
    for row in rows:
        chosen = Decision(row.recommendation) if accept else Decision(decision)
        if chosen == Decision.REDUCE:
            raise ReviewRefused(_("Reduce one item at a time."))
        if not accept and _needs_justification(row, chosen) and not justification:
            raise ReviewRefused(_("This decision needs a justification."))
        by_decision.setdefault(chosen.value, []).append(row.pk)
    for chosen, ids in by_decision.items():
        note = justification or _("Accepted the recommendation shown with its reasons.")
        for start in range(0, len(ids), CHUNK):
            ReviewItem.objects.filter(pk__in=ids[start : start + CHUNK]).update(
                decision=chosen,
                justification=note,
                reduce_expires_at=None,
                reduce_role=None,
                decided_by=actor,
                decided_at=now,
                decided_in_bulk=True,
            )
    if rows:
        audit.record(
            EventType.REVIEW_BULK_DECIDED,
            tenant=actor.tenant,
            actor=actor,
            after={
                "accept_recommendations": accept,
                "count": len(rows),
                "items": {key: ids for key, ids in by_decision.items()},
            },
            reason=justification,
        )
    return len(rows)


@transaction.atomic
def reassign(item: ReviewItem, *, actor, to, reason: str) -> ReviewItem:
    """Hand an item to another reviewer (the assigned reviewer, or a holder of reviews: change)."""
    item = _locked_item(item, _("The campaign is not open."))
    if actor is None or (item.reviewer_id != actor.pk and not engine.can(actor, Action.CHANGE, SystemModule.REVIEWS)):
        raise ReviewRefused(_("This item is assigned to another reviewer."), code=NOT_REVIEWER)
    _current_stage(item)
    if to is None or to.tenant_id != item.tenant_id or not may_review(to):
        raise ReviewRefused(_("Choose an active reviewer of this tenant."))
    if is_own_access(item, to):
        raise ReviewRefused(_("Nobody reviews their own access."), code=SELF_REVIEW)
    if not (reason or "").strip():
        raise ReviewRefused(_("Say why the item is reassigned."))
    before = item.reviewer_id
    item.reviewer = to
    item.routed = "reassigned"
    item.save(update_fields=["reviewer", "routed"])
    audit.record(
        EventType.REVIEW_REASSIGNED,
        tenant=item.campaign.tenant,
        actor=actor,
        target=item,
        before={"reviewer": before},
        after={"reviewer": to.pk},
        reason=reason,
    )
    return item


def basic_role() -> Role:
    """What a revoked role membership falls back to: the tenant's Basic user role."""
    return Role.objects.get(builtin=True, key=BuiltinRole.BASIC)
