"""``record()``: the one way to write an audit event. Call it inside the transaction of the change."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection, models
from django.utils import timezone

from audit import chain
from audit.canonical import build_payload
from audit.context import current_origin
from audit.escaping import escape_controls
from audit.events import EventType
from audit.personal import EMAIL, PERSON_TYPES, Committer, Person, people_in
from audit.personal import rows as personal_rows

logger = logging.getLogger("portcullis.audit")

# LOG-6: words that must never name a recorded value (passwords, codes, tokens, secrets), and the names
# of session ids. A setting such as "session_idle_minutes" is fine; "session_key" or "sessionid" is not.
SENSITIVE_WORDS = frozenset({"password", "passwd", "passphrase", "pwd", "otp", "totp", "hotp", "token", "secret"})
SESSION_NAMES = frozenset({"session", "sessionid", "sessionkey", "sessioncookie", "sessiontoken", "sid"})
_WORD = re.compile(r"[a-z0-9]+")
_SENSITIVE_IN_TEXT = re.compile(
    r"(?i)\b(" + "|".join(sorted(SENSITIVE_WORDS | SESSION_NAMES | {"session_id", "session_key"})) + r")\b\s*[:=]"
)


class SensitiveDataError(ValueError):
    """A before/after/reason value would record a secret (a password, a code, a token, a session id)."""


@dataclass(frozen=True)
class Target:
    """What an event is about, when it is not a model instance: a type, an id and a text.

    ``subject`` is the id of the user the label names, when it names one (e.g. a pending change's summary
    "reports: view → bob@…"): the label is then recorded as a commitment, erasable with that user.
    """

    type: str
    id: str
    label: str = ""
    subject: int | None = None


def describe(target) -> Target | None:
    """A Target for a model instance (``app.Model``, pk, str()), or the Target itself."""
    if target is None or isinstance(target, Target):
        return target
    if isinstance(target, models.Model):
        return Target(type=target._meta.label_lower, id=str(target.pk), label=str(target)[:300])
    raise TypeError(f"cannot describe {target!r} as an audit target")


@dataclass(frozen=True)
class Recorded:
    """What a listener sees of an appended event: the stored row and the values as the caller gave them
    (``before``/``after`` still naming people with ``Person``, before they became commitments)."""

    event: object
    tenant: object
    actor_id: int | None
    target: Target | None
    before: dict | None
    after: dict | None


_LISTENERS: list[Callable[[Recorded], None]] = []


def on_record(listener: Callable[[Recorded], None]) -> None:
    """Call ``listener(Recorded)`` after every appended event, inside the change's transaction (so what it
    writes commits or rolls back with the change; e.g. the webhooks outbox). Registering twice is a no-op."""
    if listener not in _LISTENERS:
        _LISTENERS.append(listener)


def _owners(tenant_id: int) -> Callable[[set[str]], dict[str, int]]:
    """A look-up of the tenant's users by e-mail address (for personal values found by the safety net)."""

    def owners(emails: set[str]) -> dict[str, int]:
        from accounts.models import User

        found = User.objects.dangerously_all_tenants().filter(tenant_id=tenant_id, email__in=sorted(emails))
        return dict(found.values_list("email", "pk"))

    return owners


def _is_sensitive(key) -> bool:
    name = str(key).lower()
    words = _WORD.findall(name)
    joined = "".join(words)
    return (
        any(word in SENSITIVE_WORDS for word in words)
        or "password" in name
        or joined in SESSION_NAMES
        or joined.endswith(("sessionid", "sessionkey"))
    )


def refuse_secrets(value, where: str) -> None:
    """Raise SensitiveDataError when ``value`` has a key named like a password, code, token or session
    (any word of SENSITIVE_WORDS in the key) holding anything but true/false/null."""
    if isinstance(value, dict):
        for key, inner in value.items():
            # A yes/no (or empty) value cannot leak a secret: {"password_changed": true} is fine.
            if _is_sensitive(key) and not (inner is None or isinstance(inner, bool)):
                raise SensitiveDataError(f"audit {where} must not carry {key!r}: record that it changed, not its value")
            refuse_secrets(inner, where)
    elif isinstance(value, list | tuple):
        for inner in value:
            refuse_secrets(inner, where)
    elif isinstance(value, Person):
        return


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
    ``Target``; ``before``/``after`` JSON-serialisable values of what changed, naming users with
    ``audit.person(user)``. Address, user agent and request id come from the current origin
    (``audit.context``). Raises when called outside a transaction (an event must commit or roll back
    with its change), and when a value is named like a secret (LOG-6). Personal values (actor and
    person labels, the people named in before/after, e-mails, names, the address) are hashed only as
    salted commitments; their clear text goes to an erasable table (``audit.personal``).
    """
    if not connection.in_atomic_block:
        raise RuntimeError("audit.record() must run inside the transaction of the change it records")
    if tenant is None or getattr(tenant, "pk", None) is None:
        raise ValueError("an audit event belongs to a saved tenant")
    event_type = EventType(event_type)
    refuse_secrets(before, "before")
    refuse_secrets(after, "after")
    reason = str(reason or "")
    if _SENSITIVE_IN_TEXT.search(reason):
        raise SensitiveDataError("an audit reason must not carry a password, code, token or session id")
    described = describe(target)
    origin = current_origin()
    actor_id = getattr(actor, "pk", None) if actor is not None else None
    committer = Committer(_owners(tenant.pk))
    # The people this event already names: their addresses need no look-up.
    committer.know(getattr(actor, "email", None), actor_id)
    if isinstance(target, models.Model) and described.type in PERSON_TYPES:
        committer.know(getattr(target, "email", None), target.pk)
    for named in (*people_in(before), *people_in(after)):
        committer.know(named.email, named.id)

    actor_part = None
    if actor is not None:
        label = getattr(actor, "email", "") or str(actor)
        actor_part = {"id": actor_id, "label": committer.commit("actor", label, actor_id)}
        if getattr(actor, "is_operator", False):
            # A platform operator acting on the tenant (INS-4): the trail says so, not just a name.
            actor_part["kind"] = "operator"
    target_part, subject = None, None
    if described is not None:
        label = described.label
        if described.type in PERSON_TYPES:
            subject = int(described.id) if described.id.isdigit() else None
            label = committer.commit("target", label, subject)
        elif described.subject is not None:
            label = committer.commit("target", label, described.subject)
        elif EMAIL.search(label):
            label = committer.commit_text("target", label, None)
        target_part = {"type": described.type, "id": described.id, "label": label}
    given_before, given_after = before, after
    before = committer.commit_fields("before", before, subject)
    after = committer.commit_fields("after", after, subject)
    address = committer.commit("address", origin.address, actor_id)

    def build(seq: int) -> tuple[dict, dict, list[tuple]]:
        # Timed once the log is ours: times then follow positions.
        occurred_at = timezone.now()
        payload = build_payload(
            tenant_id=tenant.pk,
            seq=seq,
            event_type=event_type.value,
            occurred_at=occurred_at,
            actor=actor_part,
            target=target_part,
            before=before,
            after=after,
            reason=reason,
            address=address,
            user_agent=origin.user_agent,
            request_id=origin.request_id,
        )
        columns = {
            "event_type": event_type.value,
            "occurred_at": occurred_at,
            "actor_id": actor_id,
            "target_type": described.type if described else "",
            "target_id": described.id if described else "",
        }
        return payload, columns, personal_rows(committer.pending)

    event = chain.append(tenant.pk, build)
    event.set_personal({p.field: p.value for p in committer.pending})
    logger.debug(
        "audit event %s tenant=%s seq=%s actor=%s target=%s:%s",
        event_type.value,
        tenant.pk,
        event.seq,
        actor_id,
        escape_controls(event.target_type),
        escape_controls(event.target_id),
    )
    for listener in _LISTENERS:
        listener(Recorded(event, tenant, actor_id, described, given_before, given_after))
    return event


__all__ = ["Recorded", "SensitiveDataError", "Target", "describe", "on_record", "record"]
