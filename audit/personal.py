"""Personal data in events: salted commitments in the hashed bytes, clear values in an erasable table.

An event never holds a person's e-mail, name or address in clear inside its canonical bytes. It holds
``{"$pii": hex(SHA-256(salt || UTF-8(value)))}`` with a fresh 32-byte salt per value; the salt and the
clear value live in ``PersonalValue``, in one row per (event, person): the *subject*, the user the value
is about. Erasing a person deletes their rows; crypto-shredding a tenant deletes all of its rows. The
commitment alone reveals nothing (the salt is gone), and every hash of the log still verifies (DP-3).

What is committed (docs/audit-format.md, section 3):

- the actor's label, a person target's label (and any target label that contains an e-mail address or
  names its subject), the client address;
- inside ``before``/``after``, at any depth: a user named with :func:`person` (recorded as
  ``{"$pii": …, "id": <user id>}``, the subject being that user); every value under a key of
  ``PERSONAL_KEYS``; and, as a safety net, every other string that contains an e-mail address.

Fields are named by their path: ``actor``, ``target``, ``address``, or ``before``/``after`` followed by one
``.step`` per member name (``~`` written ``~0``, ``.`` written ``~1``) or array index on the way down, e.g.
``after.user`` or ``before.owners.1``.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db import transaction

PII_KEY = "$pii"
# The member of a person commitment that names the user it is about (their id, as ``actor.id`` does).
PERSON_ID_KEY = "id"
# Keys of before/after dictionaries (at any depth) whose values are personal data.
PERSONAL_KEYS = frozenset({"email", "full_name", "name_of_person", "phone"})
# Target types whose text label is a person.
PERSON_TYPES = frozenset({"accounts.user"})
# An e-mail address anywhere in a text (deliberately loose: committing too much is harmless, too little is not).
EMAIL = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")


@dataclass(frozen=True)
class Person:
    """A user named in an event's before/after values (see :func:`person`)."""

    id: int | None
    email: str


def person(user) -> Person | None:
    """Name ``user`` in an event's before/after values: recorded as a commitment to their e-mail that carries
    their id, ``{"$pii": …, "id": <pk>}``, with the clear e-mail erasable with the user (None stays None)."""
    if user is None:
        return None
    return Person(id=user.pk, email=user.email or "")


def emails_in(text: str) -> list[str]:
    """The e-mail addresses found in ``text``, lowercased (as accounts store them)."""
    return [found.lower() for found in EMAIL.findall(text)]


def step(key: str) -> str:
    """One step of a field path: a member name with ``~`` and ``.`` escaped (``~0``, ``~1``)."""
    return key.replace("~", "~0").replace(".", "~1")


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


def _plain_key(key) -> str:
    """A dictionary key as JSON writes it (``1`` → ``"1"``, ``True`` → ``"true"``)."""
    if isinstance(key, str):
        return key
    return next(iter(json.loads(json.dumps({key: None}))))


class Committer:
    """Collects the personal values of one event while its payload is built.

    ``owners(emails)`` maps e-mail addresses to the ids of the tenant's users who hold them (one query for
    the addresses not already known); it decides whose row a value found by the safety net goes to.
    """

    def __init__(self, owners: Callable[[set[str]], dict[str, int]] | None = None) -> None:
        self.pending: list[Pending] = []
        self._owners = owners
        self._known: dict[str, int | None] = {}

    def know(self, email: str | None, user_id: int | None) -> None:
        """Record that ``email`` is the address of user ``user_id`` (saves a look-up)."""
        if email and user_id is not None:
            self._known[email.lower()] = user_id

    def owner_of(self, text: str) -> int | None:
        """The id of the tenant's user whose e-mail address ``text`` contains (the first found), else None."""
        found = emails_in(text)
        unknown = {email for email in found if email not in self._known}
        if unknown and self._owners is not None:
            owners = self._owners(unknown)
            for email in unknown:
                self._known[email] = owners.get(email)
        return next((self._known[email] for email in found if self._known.get(email) is not None), None)

    def commit(self, field: str, value: str, subject_id: int | None, *, person_id: int | None = None):
        """The commitment object for ``value`` (or the value itself when empty); ``person_id`` adds the id
        of the user the value names."""
        if not isinstance(value, str) or value == "":
            return value
        salt = secrets.token_bytes(32)
        self.pending.append(Pending(field, subject_id, salt.hex(), value))
        committed = {PII_KEY: commitment(salt, value)}
        if person_id is not None:
            committed[PERSON_ID_KEY] = person_id
        return committed

    def commit_text(self, field: str, value: str, subject_id: int | None):
        """Commit a text that is personal data: under the user whose e-mail it contains, else ``subject_id``."""
        owner = self.owner_of(value) if EMAIL.search(value) else None
        return self.commit(field, value, owner if owner is not None else subject_id)

    def commit_fields(self, name: str, values, subject_id: int | None, *, personal: bool = False):
        """``values`` (before or after) as plain JSON with its personal data replaced by commitments, at any depth.

        A :class:`Person` becomes a person commitment under that user; every text under a key of
        ``PERSONAL_KEYS`` (``personal``), and every other text that contains an e-mail address, a commitment
        under the user whose address it contains, else under ``subject_id`` (the event's person target).
        Other values become plain JSON as ``audit.canonical.json_value`` makes them.
        """
        from audit.canonical import json_value

        if isinstance(values, Person):
            self.know(values.email, values.id)
            return self.commit(name, values.email, values.id, person_id=values.id)
        if isinstance(values, dict):
            result = {}
            for key, value in values.items():
                key = _plain_key(key)
                inner = personal or key in PERSONAL_KEYS
                result[key] = self.commit_fields(f"{name}.{step(key)}", value, subject_id, personal=inner)
            return result
        if isinstance(values, list | tuple):
            return [
                self.commit_fields(f"{name}.{index}", value, subject_id, personal=personal)
                for index, value in enumerate(values)
            ]
        values = json_value(values)
        if isinstance(values, dict | list):  # a value the encoder turned into a structure
            return self.commit_fields(name, values, subject_id, personal=personal)
        if isinstance(values, str) and values and (personal or EMAIL.search(values)):
            return self.commit_text(name, values, subject_id)
        return values


def people_in(values) -> Iterable[Person]:
    """The :class:`Person` markers inside ``values`` (to learn their e-mails before anything is committed)."""
    if isinstance(values, Person):
        yield values
    elif isinstance(values, dict):
        for value in values.values():
            yield from people_in(value)
    elif isinstance(values, list | tuple):
        for value in values:
            yield from people_in(value)


def rows(pending: list[Pending]) -> list[tuple[int | None, str]]:
    """The pending values grouped into one (subject id, JSON text) row per person."""
    grouped: dict[int | None, dict] = {}
    for p in pending:
        grouped.setdefault(p.subject_id, {})[p.field] = {"salt": p.salt, "value": p.value}
    return [(subject, json.dumps(values, ensure_ascii=False, sort_keys=True)) for subject, values in grouped.items()]


def is_commitment(value) -> bool:
    """True for a ``{"$pii": ...}`` object (a person commitment also carries ``"id"``)."""
    return (
        isinstance(value, dict)
        and isinstance(value.get(PII_KEY), str)
        and (len(value) == 1 or (len(value) == 2 and PERSON_ID_KEY in value))
    )


def reveal(value, field: str, clear: dict[str, str]):
    """``value`` with commitments replaced by their clear text (None once erased), at any depth."""
    if is_commitment(value):
        return clear.get(field)
    if isinstance(value, dict):
        return {key: reveal(inner, f"{field}.{step(key)}", clear) for key, inner in value.items()}
    if isinstance(value, list):
        return [reveal(inner, f"{field}.{index}", clear) for index, inner in enumerate(value)]
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
