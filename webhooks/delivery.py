"""Delivering the outbox: the job ``deliver_due(tenant, now)``, run by the one job runner (portal.jobs).

Order per resource: a subscription's deliveries of one resource key (``permissions.grant:81``) go out in
event order; a delivery waits while an earlier one of the same key is still pending (e.g. waiting for its
retry). Each round takes the head of every queue that is due, sends those concurrently (HTTP only in the
threads; every database write in the job's thread), records each attempt, and goes round again until
nothing is due or the run's time budget (``WEBHOOKS_RUN_SECONDS``) is spent.

A failed attempt (no answer, a timeout, any status but 2xx; redirects are not followed) is retried after an
exponential back-off with jitter; after ``WEBHOOKS_MAX_ATTEMPTS`` the delivery fails and the subscription
is disabled (webhooks.services.disable_after_failures), its pending deliveries kept for when it is enabled.
"""

from __future__ import annotations

import json
import random
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from webhooks import signing, transport
from webhooks.models import Attempt, Delivery, Subscription, WebhookEvent
from webhooks.queues import Queues

_random = random.SystemRandom()


def backoff(attempts: int, rand=_random.random) -> timedelta:
    """The wait after the ``attempts``-th failed attempt: base·2^(n-1), capped, with jitter (50–100 %)."""
    base = settings.WEBHOOKS_BACKOFF_BASE_SECONDS
    ceiling = min(settings.WEBHOOKS_BACKOFF_CAP_SECONDS, base * 2 ** max(0, min(attempts - 1, 30)))
    return timedelta(seconds=ceiling * (0.5 + rand() / 2))


# What sending and recording a delivery read of it; the rest of the row stays in the database.
_FIELDS = ("id", "tenant_id", "subscription_id", "event_id", "attempts", "status", "next_attempt_at")


def fetch_heads(ids) -> list[Delivery]:
    """The deliveries ``ids`` that are still pending for an active subscription, with what sending needs.

    Three queries whatever the number: the deliveries, their subscriptions (each instance shared, so its
    secret is read once a round), their events (an event's payload is decoded once for all its subscriptions)."""
    rows = list(Delivery.objects.filter(pk__in=list(ids), status=Delivery.Status.PENDING).only(*_FIELDS).order_by("id"))
    wanted = {d.subscription_id for d in rows}
    subscriptions = {s.pk: s for s in Subscription.objects.filter(pk__in=wanted, is_active=True)}
    events = {
        e.pk: e
        for e in WebhookEvent.objects.filter(pk__in={d.event_id for d in rows}).only("id", "message_id", "payload")
    }
    heads = [d for d in rows if d.subscription_id in subscriptions]
    for delivery in heads:
        delivery.subscription = subscriptions[delivery.subscription_id]
        delivery.event = events[delivery.event_id]
    return heads


def _request(delivery: Delivery, bodies: dict[int, str]) -> tuple[str, bytes, dict[str, str]]:
    body = bodies.get(delivery.event_id)
    if body is None:
        body = bodies[delivery.event_id] = json.dumps(delivery.event.payload, separators=(",", ":"), ensure_ascii=False)
    sent_at = timezone.now()  # the signature's time is the real sending time (receivers check it)
    headers = signing.headers(
        delivery.event.message_id, sent_at, body, signing.secrets_in_use(delivery.subscription, sent_at)
    )
    return delivery.subscription.url, body.encode(), headers


def _send_all(deliveries: list[Delivery], connections: transport.Connections, pool=None) -> list[transport.Outcome]:
    bodies: dict[int, str] = {}  # an event's body is the same for each subscription: serialised once a round
    requests = [_request(d, bodies) for d in deliveries]
    if pool is None or len(requests) <= 1:
        return [connections.post(*r) for r in requests]
    return list(pool.map(lambda r: connections.post(*r), requests))


def record_outcomes(deliveries: list[Delivery], outcomes: list[transport.Outcome], now) -> None:
    """Log a round's attempts and move each delivery on (delivered, retried later, or failed, which disables
    its subscription), in one transaction: a round of a thousand deliveries is two bulk writes, not 2,000."""
    from webhooks.services import disable_after_failures

    failed: list[Delivery] = []
    with transaction.atomic():
        Attempt.objects.bulk_create(
            Attempt(
                tenant_id=delivery.tenant_id,
                delivery=delivery,
                attempted_at=now,
                status_code=outcome.status_code,
                duration_ms=outcome.duration_ms,
                error=outcome.error,
            )
            for delivery, outcome in zip(deliveries, outcomes, strict=True)
        )
        for delivery, outcome in zip(deliveries, outcomes, strict=True):
            _advance(delivery, outcome, now)
            if delivery.status == Delivery.Status.FAILED:
                failed.append(delivery)
        _save(deliveries)
        for delivery in failed:
            disable_after_failures(delivery.subscription, delivery, now)


def _save(deliveries: list[Delivery]) -> None:
    """One UPDATE per distinct set of new values: a round's successes share theirs (status, code, time, count)."""
    groups: dict[tuple, list[int]] = {}
    for d in deliveries:
        values = (d.attempts, d.last_status_code, d.status, d.delivered_at, d.next_attempt_at)
        groups.setdefault(values, []).append(d.pk)
    for (attempts, code, status, delivered_at, next_at), ids in groups.items():
        for start in range(0, len(ids), 500):
            Delivery.objects.filter(pk__in=ids[start : start + 500]).update(
                attempts=attempts,
                last_status_code=code,
                status=status,
                delivered_at=delivered_at,
                next_attempt_at=next_at,
            )


def _advance(delivery: Delivery, outcome: transport.Outcome, now) -> None:
    delivery.attempts += 1
    delivery.last_status_code = outcome.status_code
    if outcome.ok:
        delivery.status, delivery.delivered_at = Delivery.Status.DELIVERED, now
    elif delivery.attempts >= settings.WEBHOOKS_MAX_ATTEMPTS:
        delivery.status = Delivery.Status.FAILED
    else:
        delivery.next_attempt_at = now + backoff(delivery.attempts)


def deliver_due(tenant, now=None) -> int:
    """Send what is due for ``tenant`` (a job, inside its tenant scope); returns the attempts made.

    The run keeps its connections to the receivers open from round to round (``transport.Connections``) and
    sends with up to ``WEBHOOKS_CONCURRENCY`` threads."""
    now = now or timezone.now()
    deadline = time.monotonic() + settings.WEBHOOKS_RUN_SECONDS
    made = 0
    workers = settings.WEBHOOKS_CONCURRENCY
    queues = Queues(now)
    with transport.Connections() as connections, ThreadPoolExecutor(max_workers=workers) as pool:
        while time.monotonic() < deadline:
            taken = queues.take(settings.WEBHOOKS_BATCH)
            if not taken:
                break
            # A head that is no longer pending (redelivered or changed meanwhile) or whose subscription was
            # disabled is not sent, and its queue waits for the next run.
            heads = fetch_heads(taken)
            if not heads:
                continue
            record_outcomes(heads, _send_all(heads, connections, pool if workers > 1 else None), now)
            made += len(heads)
            for delivery in heads:
                if delivery.status != Delivery.Status.PENDING:
                    queues.left(taken[delivery.pk])
    return made
