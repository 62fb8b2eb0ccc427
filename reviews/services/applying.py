"""Applying closed campaigns: every revoke or reduce goes through the permission services, exactly once.

The exactly-once marker (``applied_at``) is set in the same transaction as the change, on a locked
item row: a retry, a second runner or a crash between items finds the applied ones marked and skips
them. A failure is written on the item (``failed`` + the error) and in the audit log: never silent.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

import audit
from accounts.models import User
from audit.events import EventType
from permissions.models import Grant, Provenance
from permissions.services import grants, roles
from permissions.services.checks import require
from permissions.services.errors import AccessRefused, ErrorCode
from permissions.vocabulary import Action, SystemModule, actions_of
from reviews.models import ApplyResult, Decision, ItemKind, ReviewCampaign, ReviewItem
from reviews.services.decisions import basic_role
from reviews.services.revoking import revoke_other

logger = logging.getLogger("portcullis.reviews")


def _reason(item: ReviewItem, campaign: ReviewCampaign) -> str:
    # The reviewer by id, never by e-mail: an event's reason is hashed text that cannot be erased (DP-3).
    # Stored in English whatever the language of the run; shown in the reader's (portal.stored_text).
    who = f"user #{item.decided_by_id}" if item.decided_by_id else "policy default"
    text = f"Access review «{campaign.name}» (campaign {campaign.pk}, item {item.pk}): {item.final_decision} by {who}"
    if item.justification:
        text += f": {item.justification}"
    return text[:2000]


GRANT_KINDS = (ItemKind.GRANT, ItemKind.GROUP_GRANT)


def _guarded(apply, *args) -> tuple[str, str]:
    """Run one kind's revoke; a refusal for leaving the tenant without an administrator is a guard, not a failure."""
    try:
        return apply(*args)
    except AccessRefused as error:
        if error.code != ErrorCode.LAST_ADMINISTRATOR:
            raise
        return ApplyResult.GUARDED, _("Not applied: the last administrator.")


def _apply_grant(item: ReviewItem, campaign: ReviewCampaign, now: datetime, grant: Grant | None = None):
    if grant is None:
        grant = (
            Grant.objects.select_for_update(of=("self",))
            .filter(pk=item.grant_id)
            .select_related("module", "resource", "user")
            .first()
        )
    if grant is None or not grant.is_active_at(now):
        return ApplyResult.NOTHING, _("The grant had already ended.")
    grant.tenant = campaign.tenant  # the same row, already loaded: no query per item for the audit event
    reason = _reason(item, campaign)
    if item.final_decision == Decision.REVOKE:
        try:
            grants.revoke(grant, actor=None, reason=reason)
        except AccessRefused as error:
            if error.code != ErrorCode.LAST_ADMINISTRATOR:
                raise
            return ApplyResult.GUARDED, _("Not applied: the last administrator.")
        return ApplyResult.APPLIED, _("Grant #%(id)s revoked.") % {"id": grant.pk}
    new_expiry = item.reduce_expires_at
    if grant.expires_at is not None and grant.expires_at <= new_expiry:
        return ApplyResult.NOTHING, _("The grant already expires earlier.")
    grants.revoke(grant, actor=None, reason=reason)
    shorter = grants.grant(
        actor=None,
        module=grant.module,
        resource=grant.resource,
        user=grant.user,
        actions=actions_of(grant.actions),
        reason=grant.reason,
        expires_at=new_expiry,
        provenance=Provenance.REVIEW,
        reference=f"campaign:{campaign.pk}/item:{item.pk}",
    )
    return ApplyResult.APPLIED, _("Grant #%(old)s replaced by #%(new)s expiring %(when)s.") % {
        "old": grant.pk,
        "new": shorter.pk,
        "when": new_expiry.strftime("%Y-%m-%d"),
    }


def _apply_role(item: ReviewItem, campaign: ReviewCampaign) -> tuple[str, str]:
    user = User.objects.select_for_update(of=("self",)).select_related("role").get(pk=item.user_id)
    if user.role_id != item.role_id:
        return ApplyResult.UNCHANGED, _("The user's role changed since the campaign opened.")
    target = basic_role() if item.final_decision == Decision.REVOKE else item.reduce_role
    if target is None:
        return ApplyResult.FAILED, _("The role to reduce to no longer exists.")
    try:  # the role service refuses to leave the tenant without an active administrator (INS-2)
        roles.change_user_role(user, target, actor=None, reason=_reason(item, campaign))
    except AccessRefused as error:
        if error.code != ErrorCode.LAST_ADMINISTRATOR:
            raise
        return ApplyResult.GUARDED, _("Not applied: the last administrator.")
    return ApplyResult.APPLIED, _("Role changed to %(role)s.") % {"role": target.display_name}


def apply_item(item_id: int, *, now: datetime | None = None) -> str | None:
    """Apply one closed item's revoke or reduce; None when it was already applied (the retry case)."""
    now = now or timezone.now()
    try:
        with transaction.atomic():
            item = (
                ReviewItem.objects.select_for_update(of=("self",))
                .select_related("campaign__tenant", "decided_by", "reduce_role")
                .get(pk=item_id)
            )
            if item.applied_at is not None or item.apply_result != ApplyResult.PENDING:
                return None
            with translation.override("en"):  # stored in English, read in the reader's (portal.stored_text)
                if item.kind in GRANT_KINDS:
                    result, detail = _apply_grant(item, item.campaign, now)
                elif item.kind == ItemKind.ROLE:
                    result, detail = _apply_role(item, item.campaign)
                else:
                    result, detail = _guarded(revoke_other, item, _reason(item, item.campaign))
            item.applied_at = now if result != ApplyResult.FAILED else None
            item.apply_result = result
            item.apply_detail = detail
            item.save(update_fields=["applied_at", "apply_result", "apply_detail"])
            return result
    except Exception as exc:  # shown on the item and audited; the next item still runs
        logger.exception("review item not applied", extra={"item": item_id})
        with transaction.atomic():
            item = ReviewItem.objects.select_for_update().select_related("campaign__tenant").get(pk=item_id)
            if item.applied_at is not None:
                return None
            item.apply_result = ApplyResult.FAILED
            item.apply_detail = f"{type(exc).__name__}: {exc}"[:2000]
            item.save(update_fields=["apply_result", "apply_detail"])
            audit.record(
                EventType.REVIEW_APPLY_FAILED,
                tenant=item.campaign.tenant,
                target=item,
                after={"campaign": item.campaign_id, "access": item.access_key, "error": item.apply_detail},
            )
        return ApplyResult.FAILED


BATCH = 200


def _apply_batch(campaign: ReviewCampaign, ids: list[int], now: datetime) -> int | None:
    """Apply a batch of grant items in one transaction (markers set in it too); None if anything failed,
    in which case nothing of the batch was written and the caller applies its items one by one."""
    try:
        with transaction.atomic():
            items = list(
                ReviewItem.objects.select_for_update(of=("self",))
                .filter(pk__in=ids, applied_at__isnull=True, apply_result=ApplyResult.PENDING, kind__in=GRANT_KINDS)
                .select_related("decided_by")
                .order_by("id")
            )
            locked = Grant.objects.select_for_update(of=("self",)).select_related("module", "resource", "user")
            by_id = {g.pk: g for g in locked.filter(pk__in=[i.grant_id for i in items])}
            changed = 0
            for item in items:
                with translation.override("en"):  # stored in English (portal.stored_text)
                    result, detail = _apply_grant(item, campaign, now, by_id.get(item.grant_id))
                item.applied_at, item.apply_result, item.apply_detail = now, result, detail
                changed += result == ApplyResult.APPLIED
            ReviewItem.objects.bulk_update(items, ["applied_at", "apply_result", "apply_detail"])
            return changed
    except Exception:
        logger.warning("review batch failed; applying its items one by one", extra={"campaign": campaign.pk})
        return None


def apply_campaign(campaign: ReviewCampaign, *, actor=None, now: datetime | None = None) -> int:
    """Apply every pending revoke/reduce of a closed campaign; mark it applied when none is left pending.

    Returns how many items changed. Safe to run again: applied items are skipped.
    """
    now = now or timezone.now()
    if actor is not None:
        require(actor, Action.CHANGE, SystemModule.REVIEWS)
    if campaign.state != ReviewCampaign.State.CLOSED:
        return 0
    pending = ReviewItem.objects.filter(
        campaign=campaign,
        apply_result=ApplyResult.PENDING,
        applied_at__isnull=True,
        final_decision__in=[Decision.REVOKE, Decision.REDUCE],
    )
    changed = 0
    campaign = ReviewCampaign.objects.select_related("tenant").get(pk=campaign.pk)
    grant_ids = list(pending.filter(kind__in=GRANT_KINDS).order_by("id").values_list("pk", flat=True))
    for start in range(0, len(grant_ids), BATCH):
        batch = grant_ids[start : start + BATCH]
        done = _apply_batch(campaign, batch, now)
        if done is None:
            done = sum(apply_item(item_id, now=now) == ApplyResult.APPLIED for item_id in batch)
        changed += done
    # One by one: role memberships, group and organisation memberships, roles' matrices, sharing rules.
    for item_id in list(pending.exclude(kind__in=GRANT_KINDS).order_by("id").values_list("pk", flat=True)):
        if apply_item(item_id, now=now) == ApplyResult.APPLIED:
            changed += 1
    with transaction.atomic():
        campaign = ReviewCampaign.objects.select_for_update().get(pk=campaign.pk)
        left = ReviewItem.objects.filter(campaign=campaign, apply_result=ApplyResult.PENDING).exists()
        if campaign.state == ReviewCampaign.State.CLOSED and not left:
            campaign.state = ReviewCampaign.State.APPLIED
            campaign.applied_at = now
            campaign.save(update_fields=["state", "applied_at"])
            failed = ReviewItem.objects.filter(campaign=campaign, apply_result=ApplyResult.FAILED).count()
            audit.record(
                EventType.REVIEW_CAMPAIGN_APPLIED,
                tenant=campaign.tenant,
                actor=actor,
                target=campaign,
                before={"state": "closed"},
                after={"state": "applied", "changed": changed, "failed": failed},
            )
    return changed


def apply_closed_campaigns(tenant, now: datetime | None = None) -> int:
    """The scheduler's job: apply closed campaigns whose policy applies automatically."""
    changed = 0
    for campaign in ReviewCampaign.objects.filter(state=ReviewCampaign.State.CLOSED, policy__auto_apply=True):
        changed += apply_campaign(campaign, now=now)
    return changed


@transaction.atomic
def retry_failed(campaign: ReviewCampaign, *, actor) -> int:
    """Put failed items back in the queue (reviews: change); the next apply tries them again."""
    require(actor, Action.CHANGE, SystemModule.REVIEWS)
    # The campaign row first, then its items: the lock order of every writer (see services.campaigns).
    campaign = ReviewCampaign.objects.select_for_update(of=("self",)).select_related("tenant").get(pk=campaign.pk)
    retried = ReviewItem.objects.filter(campaign=campaign, apply_result=ApplyResult.FAILED, applied_at__isnull=True)
    count = retried.update(apply_result=ApplyResult.PENDING, apply_detail="")
    if not count:
        return 0
    before = campaign.state
    if campaign.state == ReviewCampaign.State.APPLIED:
        campaign.state = ReviewCampaign.State.CLOSED
        campaign.save(update_fields=["state"])
    audit.record(
        EventType.REVIEW_APPLY_RETRIED,
        tenant=campaign.tenant,
        actor=actor,
        target=campaign,
        before={"state": before},
        after={"state": campaign.state, "retried": count},
    )
    return count


__all__ = ["apply_campaign", "apply_closed_campaigns", "apply_item", "retry_failed"]
