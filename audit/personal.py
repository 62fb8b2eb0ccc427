"""Personal data in events: salted commitments in the hashed bytes, clear values in an erasable table.

An event never holds a person's e-mail, name or address in clear inside its canonical bytes. It holds
``{"$pii": hex(SHA-256(salt || UTF-8(value)))}`` with a fresh 32-byte salt per value; the salt and the
clear value live in ``PersonalValue``. Erasing a person deletes those rows: the commitment alone
reveals nothing (the salt is gone), and every hash of the log still verifies (DP-3).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass

from django.db import transaction

PII_KEY = "$pii"
# Keys of before/after dictionaries whose values are personal data.
PERSONAL_KEYS = frozenset({"email", "full_name", "name_of_person", "phone"})
# Target types whose text label is a person.
PERSON_TYPES = frozenset({"accounts.user"})


def commitment(salt: bytes, value: str) -> str:
    """hex(SHA-256(salt || UTF-8(value))): binds the event to ``value`` without revealing it."""
    return hashlib.sha256(salt + value.encode("utf-8")).hexdigest()


@dataclass
class Pending:
    """A clear personal value waiting to be stored with its event."""

    field: str
    subject_id: int | None
    salt: str
    value: str


class Committer:
    """Collects the personal values of one event while its payload is built."""

    def __init__(self) -> None:
        self.pending: list[Pending] = []

    def commit(self, field: str, value: str, subject_id: int | None):
        """The commitment object for ``value`` (or the value itself when empty)."""
        if not isinstance(value, str) or value == "":
            return value
        salt = secrets.token_bytes(32)
        self.pending.append(Pending(field, subject_id, salt.hex(), value))
        return {PII_KEY: commitment(salt, value)}

    def commit_fields(self, name: str, values, subject_id: int | None):
        """A before/after dictionary with its personal keys replaced by commitments."""
        if not isinstance(values, dict):
            return values
        return {
            key: self.commit(f"{name}.{key}", value, subject_id) if key in PERSONAL_KEYS else value
            for key, value in values.items()
        }


def rows(pending: list[Pending]) -> list[tuple[int | None, str]]:
    """The pending values grouped into one (subject id, JSON text) row per person."""
    grouped: dict[int | None, dict] = {}
    for p in pending:
        grouped.setdefault(p.subject_id, {})[p.field] = {"salt": p.salt, "value": p.value}
    return [(subject, json.dumps(values, ensure_ascii=False, sort_keys=True)) for subject, values in grouped.items()]


def is_commitment(value) -> bool:
    """True for a ``{"$pii": ...}`` object."""
    return isinstance(value, dict) and len(value) == 1 and PII_KEY in value


def reveal(value, field: str, clear: dict[str, str]):
    """``value`` with commitments replaced by their clear text (None once erased)."""
    if is_commitment(value):
        return clear.get(field)
    if isinstance(value, dict):
        return {key: clear.get(f"{field}.{key}") if is_commitment(v) else v for key, v in value.items()}
    return value


def clear_values(events) -> dict[int, dict[str, str]]:
    """{seq: {field: clear value}} for events of one tenant, in one query."""
    from audit.models import PersonalValue

    events = list(events)
    if not events:
        return {}
    tenant_id = events[0].tenant_id
    result: dict[int, dict[str, str]] = {}
    stored = (
        PersonalValue.objects.dangerously_all_tenants()
        .filter(tenant_id=tenant_id, seq__in=[e.seq for e in events])
        .values_list("seq", "values")
    )
    for seq, values in stored:
        for field, entry in json.loads(values).items():
            result.setdefault(seq, {})[field] = entry["value"]
    return result


def attach(events) -> list:
    """Prefetch the clear personal values of ``events`` (one query for the whole page)."""
    events = list(events)
    values = clear_values(events)
    for event in events:
        event.set_personal(values.get(event.seq, {}))
    return events


@transaction.atomic
def erase_subject(tenant, subject_id: int, *, actor=None, reason: str = "") -> int:
    """Erase every clear personal value about user ``subject_id`` in ``tenant``'s log; return how many.

    The events keep their commitments, so the chain and checkpoints still verify. The erasure itself
    is recorded (without the erased values).
    """
    import audit
    from audit.events import EventType
    from audit.models import PersonalValue
    from audit.recording import Target

    about = PersonalValue.objects.dangerously_all_tenants().filter(tenant=tenant, subject_id=subject_id)
    count = sum(len(json.loads(values)) for values in about.values_list("values", flat=True))
    about.delete()
    audit.record(
        EventType.PERSONAL_DATA_ERASED,
        tenant=tenant,
        actor=actor,
        target=Target(type="accounts.user", id=str(subject_id)),
        after={"values_erased": count},
        reason=reason,
    )
    return count
