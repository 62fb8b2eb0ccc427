"""The outbox: an event and one pending delivery per matching subscription, written in the change's transaction.

``enqueue_for_audit_event`` listens to ``audit.record`` (audit.recording.on_record): the rows commit or
roll back with the change they report, so nothing is lost and nothing is sent for a change that did not
happen, and the change never waits for a receiver (delivery runs later, webhooks.delivery).
``emit_cosigned_checkpoints`` is a job: a checkpoint cosigned by the tenant's quorum of witnesses is not an
audit event, so the job sends each newly witnessed checkpoint once.

Payloads carry ids, never personal data: a user named in the change is ``{"id": …}``, values under
personal keys (e-mail, name, phone) are left out and any other text holding an e-mail address is replaced.
"""

from __future__ import annotations

from django.utils import timezone

from accounts.scoping import tenant_scope
from audit.personal import EMAIL, PERSONAL_KEYS, Person
from webhooks.models import Delivery, Subscription, WebhookEvent
from webhooks.signing import new_message_id
from webhooks.vocabulary import FROM_AUDIT, WebhookEventType

REDACTED = "[redacted]"


def without_personal_data(value):
    """``value`` with people as ``{"id": …}``, personal keys dropped and e-mail addresses redacted."""
    if isinstance(value, Person):
        return {"id": value.id}
    if isinstance(value, dict):
        return {str(k): without_personal_data(v) for k, v in value.items() if str(k) not in PERSONAL_KEYS}
    if isinstance(value, list | tuple):
        return [without_personal_data(v) for v in value]
    if isinstance(value, str) and EMAIL.search(value):
        return REDACTED
    return value


def enqueue(tenant, event_type: str, resource_key: str, data: dict, *, audit_seq: int | None = None) -> int:
    """Write the event and a pending delivery for each active subscription of ``tenant`` that wants it.

    Runs in ``tenant``'s own scope: the event is that tenant's, whatever scope (or none) the caller is in."""
    with tenant_scope(tenant):
        return _enqueue(tenant, event_type, resource_key, data, audit_seq)


def _enqueue(tenant, event_type: str, resource_key: str, data: dict, audit_seq: int | None) -> int:
    wanting = [s for s in Subscription.objects.filter(tenant=tenant, is_active=True) if s.wants(event_type)]
    if not wanting:
        return 0
    now = timezone.now()
    event = WebhookEvent.objects.create(
        tenant=tenant,
        message_id=new_message_id(),
        event_type=event_type,
        resource_key=resource_key[:200],
        audit_seq=audit_seq,
        payload={"type": event_type, "timestamp": now.isoformat().replace("+00:00", "Z"), "data": data},
        created_at=now,
    )
    Delivery.objects.bulk_create(
        Delivery(tenant=tenant, subscription=s, event=event, resource_key=event.resource_key, next_attempt_at=now)
        for s in wanting
    )
    return len(wanting)


def enqueue_for_audit_event(recorded) -> None:
    """The audit listener: audit events that map to a webhook event type go to the outbox."""
    event_type = FROM_AUDIT.get(recorded.event.event_type)
    if event_type is None:
        return
    target = recorded.target
    resource = {"type": target.type, "id": target.id} if target is not None else None
    data = {
        "tenant": recorded.tenant.slug,
        "audit_event": recorded.event.event_type,
        "audit_seq": recorded.event.seq,
        "resource": resource,
        "actor": {"id": recorded.actor_id} if recorded.actor_id is not None else None,
        "before": without_personal_data(recorded.before),
        "after": without_personal_data(recorded.after),
    }
    key = f"{target.type}:{target.id}" if target is not None else event_type.value
    enqueue(recorded.tenant, event_type.value, key, data, audit_seq=recorded.event.seq)


def emit_cosigned_checkpoints(tenant, now=None) -> int:
    """Send the tenant's latest witnessed checkpoint once (a job; idempotent). Only with witnesses configured."""
    from django.db import transaction

    from audit import witnessing

    if witnessing.quorum(tenant) == 0:
        return 0
    latest = witnessing.latest_witnessed(tenant)
    if latest is None:
        return 0
    kind = WebhookEventType.CHECKPOINT_COSIGNED.value
    last = WebhookEvent.objects.filter(event_type=kind).order_by("-id").first()
    if last is not None and last.payload.get("data", {}).get("checkpoint", {}).get("index", -1) >= latest.index:
        return 0
    data = {
        "tenant": tenant.slug,
        "checkpoint": {"index": latest.index, "tree_size": latest.tree_size, "root_hash": latest.root_hash},
    }
    with transaction.atomic():
        return enqueue(tenant, kind, "audit.checkpoint", data)


def register_jobs() -> None:
    """Register the webhook jobs with the one job runner (portal.jobs)."""
    from portal import jobs
    from webhooks.delivery import deliver_due

    jobs.register("webhooks.checkpoints", emit_cosigned_checkpoints, last=True)  # after audit-checkpoints
    jobs.register("webhooks.deliver", deliver_due, last=True)  # in the same run as the checkpoint feed
