"""``record()``: the one way to write an audit event. Call it inside the transaction of the change."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection, models

from audit.context import current_origin
from audit.events import EventType


@dataclass(frozen=True)
class Target:
    """What an event is about, when it is not a model instance: a type, an id and a text."""

    type: str
    id: str
    label: str = ""


def describe(target) -> Target | None:
    """A Target for a model instance (``app.Model``, pk, str()), or the Target itself."""
    if target is None or isinstance(target, Target):
        return target
    if isinstance(target, models.Model):
        return Target(type=target._meta.label_lower, id=str(target.pk), label=str(target)[:300])
    raise TypeError(f"cannot describe {target!r} as an audit target")


def record(
    event_type: EventType,
    *,
    tenant,
    actor=None,
    target=None,
    before: dict | None = None,
    after: dict | None = None,
    reason: str = "",
):
    """Append one event to ``tenant``'s log, inside the caller's transaction.

    ``actor`` is the user who acted (None for the system); ``target`` a model instance or a
    ``Target``; ``before``/``after`` JSON-serialisable values of what changed. Address, user
    agent and request id come from the current origin (``audit.context``). Raises when called
    outside a transaction: an event must commit or roll back with its change.
    """
    from audit.models import AuditEvent

    if not connection.in_atomic_block:
        raise RuntimeError("audit.record() must run inside the transaction of the change it records")
    if tenant is None:
        raise ValueError("an audit event belongs to a tenant")
    described = describe(target)
    origin = current_origin()
    last = (
        AuditEvent.objects.dangerously_all_tenants()
        .filter(tenant=tenant)
        .order_by("-seq")
        .values_list("seq", flat=True)
        .first()
    )
    event = AuditEvent(
        tenant=tenant,
        seq=0 if last is None else last + 1,
        event_type=EventType(event_type),
        actor=actor if getattr(actor, "pk", None) else None,
        actor_label=getattr(actor, "email", "") if actor is not None else "",
        target_type=described.type if described else "",
        target_id=described.id if described else "",
        target_label=described.label if described else "",
        before=before,
        after=after,
        reason=reason,
        address=origin.address,
        user_agent=origin.user_agent,
        request_id=origin.request_id,
    )
    event.save(force_insert=True)
    return event


__all__ = ["Target", "describe", "record"]
