"""Changes to webhooks, one service each, audited in their transaction (settings: change, like API keys).

The signing secret is never recorded (the audit says that it was rotated) and is returned only by
``create_subscription`` and ``rotate_secret``, to be shown once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

import audit
from audit.events import EventType
from permissions.services.checks import require, same_tenant
from permissions.services.errors import AccessRefused, ErrorCode
from permissions.vocabulary import Action, SystemModule
from webhooks import targets
from webhooks.models import Delivery, Subscription
from webhooks.notify import tell_administrators
from webhooks.signing import new_secret
from webhooks.vocabulary import WebhookEventType

MODULE = SystemModule.SETTINGS.value


@dataclass(frozen=True)
class WithSecret:
    """A subscription and its new secret (shown once)."""

    subscription: Subscription
    secret: str


def _clean(name: str, url: str, event_types) -> tuple[str, str, list[str]]:
    name = (name or "").strip()
    url = (url or "").strip()
    if not name:
        raise AccessRefused(ErrorCode.INVALID, "a webhook needs a name")
    if len(url) > 500:
        raise AccessRefused(ErrorCode.INVALID, "the URL is too long")
    try:
        targets.check(url)
    except targets.TargetRefused as refused:
        raise AccessRefused(ErrorCode.INVALID, str(refused)) from None
    chosen = sorted(set(event_types or []))
    unknown = [t for t in chosen if t not in WebhookEventType.values]
    if unknown or not chosen:
        raise AccessRefused(ErrorCode.INVALID, "choose at least one known event type")
    return name, url, chosen


def _allowed(actor, *objects) -> None:
    """settings: change, on rows of the actor's own tenant only (AZ-2; the views' scoped look-ups come first)."""
    if actor is not None:
        same_tenant(actor.tenant_id, *objects)
    require(actor, Action.CHANGE, MODULE)


def _state(subscription: Subscription) -> dict:
    return {
        "name": subscription.name,
        "url": subscription.url,
        "event_types": list(subscription.event_types),
        "is_active": subscription.is_active,
    }


@transaction.atomic
def create_subscription(*, actor, tenant, name: str, url: str, event_types) -> WithSecret:
    """A new subscription of ``tenant`` with a fresh secret."""
    if actor is not None and actor.tenant_id != tenant.pk:
        raise AccessRefused(ErrorCode.CROSS_TENANT)
    require(actor, Action.CHANGE, MODULE)
    name, url, chosen = _clean(name, url, event_types)
    secret = new_secret()
    subscription = Subscription.objects.create(
        tenant=tenant, name=name, url=url, event_types=chosen, secret=secret, created_by=actor
    )
    audit.record(EventType.WEBHOOK_CREATED, tenant=tenant, actor=actor, target=subscription, after=_state(subscription))
    return WithSecret(subscription, secret)


@transaction.atomic
def update_subscription(subscription, *, actor, name: str, url: str, event_types, is_active: bool) -> Subscription:
    """Change the name, URL, event types or active flag; enabling again resumes the pending deliveries."""
    _allowed(actor, subscription)
    name, url, chosen = _clean(name, url, event_types)
    locked = Subscription.objects.select_for_update().get(pk=subscription.pk)
    before = _state(locked)
    locked.name, locked.url, locked.event_types, locked.is_active = name, url, chosen, bool(is_active)
    if locked.is_active:
        locked.disabled_at, locked.disabled_reason = None, ""
    elif before["is_active"]:
        locked.disabled_at, locked.disabled_reason = timezone.now(), "disabled by an administrator"
    locked.updated_at = timezone.now()
    locked.save()
    after = _state(locked)
    if after != before:
        audit.record(
            EventType.WEBHOOK_CHANGED, tenant=locked.tenant, actor=actor, target=locked, before=before, after=after
        )
    return locked


@transaction.atomic
def rotate_secret(subscription, *, actor) -> WithSecret:
    """A new secret; the previous one still signs for ``WEBHOOKS_SECRET_GRACE_HOURS``."""
    _allowed(actor, subscription)
    locked = Subscription.objects.select_for_update().get(pk=subscription.pk)
    secret = new_secret()
    now = timezone.now()
    locked.previous_secret = locked.secret
    locked.previous_secret_until = now + timedelta(hours=settings.WEBHOOKS_SECRET_GRACE_HOURS)
    locked.secret = secret
    locked.updated_at = now
    locked.save()
    audit.record(
        EventType.WEBHOOK_SECRET_ROTATED,
        tenant=locked.tenant,
        actor=actor,
        target=locked,
        after={"secret_rotated": True, "previous_valid_until": locked.previous_secret_until.isoformat()},
    )
    return WithSecret(locked, secret)


@transaction.atomic
def delete_subscription(subscription, *, actor) -> None:
    """Remove the subscription with its deliveries and their log."""
    _allowed(actor, subscription)
    before = _state(subscription)
    audit.record(EventType.WEBHOOK_DELETED, tenant=subscription.tenant, actor=actor, target=subscription, before=before)
    subscription.delete()


@transaction.atomic
def redeliver(delivery: Delivery, *, actor) -> Delivery:
    """Queue the delivery's event again for its subscription (same message id: receivers may deduplicate)."""
    _allowed(actor, delivery)
    again = Delivery.objects.create(
        tenant_id=delivery.tenant_id,
        subscription=delivery.subscription,
        event=delivery.event,
        resource_key=delivery.resource_key,
        manual=True,
    )
    audit.record(
        EventType.WEBHOOK_REDELIVERY,
        tenant=delivery.subscription.tenant,
        actor=actor,
        target=delivery.subscription,
        after={"delivery": again.pk, "of": delivery.pk, "event_type": delivery.event.event_type},
    )
    return again


def disable_after_failures(subscription, delivery: Delivery, now) -> None:
    """The system disables a subscription whose delivery failed its last attempt, and tells the administrators.
    Runs inside the delivery job's transaction."""
    locked = Subscription.objects.select_for_update().get(pk=subscription.pk)
    if not locked.is_active:
        return
    locked.is_active = False
    locked.disabled_at = now
    locked.disabled_reason = f"{delivery.attempts} failed attempts"
    locked.save(update_fields=["is_active", "disabled_at", "disabled_reason"])
    audit.record(
        EventType.WEBHOOK_DISABLED,
        tenant=locked.tenant,
        actor=None,
        target=locked,
        before={"is_active": True},
        after={"is_active": False, "delivery": delivery.pk, "attempts": delivery.attempts},
    )
    tell_administrators(locked)
