"""Appending to a tenant's log: gapless positions, canonical bytes, leaf and chain hashes.

Writers of one tenant are serialised for the rest of their transaction, so positions follow commit
order without gaps: on PostgreSQL by a transaction-scoped advisory lock keyed by the tenant (other
tenants never wait), on SQLite by the IMMEDIATE transactions the settings configure (one writer at a
time). The unique (tenant, seq) constraint is the backstop if either is ever bypassed.
"""

from __future__ import annotations

from collections.abc import Callable
from hashlib import sha256

from django.db import connection

from audit import merkle
from audit.canonical import ZERO_HASH, canonical_bytes

LOCK_PREFIX = "portcullis.audit:"


def lock_log(tenant_id: int) -> None:
    """Hold the tenant's log until the end of the current transaction (PostgreSQL; SQLite is serial)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [f"{LOCK_PREFIX}{tenant_id}"])


def tail(tenant_id: int) -> tuple[int, str]:
    """(next position, chain hash of the last event) of the tenant's log."""
    from audit.models import AuditEvent

    table = connection.ops.quote_name(AuditEvent._meta.db_table)
    with connection.cursor() as cursor:
        sql = f"SELECT seq, chain_hash FROM {table} WHERE tenant_id = %s ORDER BY seq DESC LIMIT 1"
        cursor.execute(sql, [tenant_id])
        row = cursor.fetchone()
    return (0, ZERO_HASH) if row is None else (row[0] + 1, row[1])


def lock_and_tail(tenant_id: int) -> tuple[int, str]:
    """``lock_log`` then ``tail`` in one round trip where the driver allows it.

    On PostgreSQL with client-side binding (Django's default) both statements go in one simple-query
    message; each statement of a READ COMMITTED transaction takes its own snapshot, so the tail is
    read after the lock is held and sees every event committed before.
    """
    from audit.models import AuditEvent

    if connection.vendor != "postgresql":
        return tail(tenant_id)
    import psycopg

    connection.ensure_connection()
    if getattr(connection, "isolation_level", None) not in (None, psycopg.IsolationLevel.READ_COMMITTED):
        # Under REPEATABLE READ or SERIALIZABLE the tail would be read from a snapshot older than the lock.
        raise RuntimeError("the audit log needs READ COMMITTED transactions (Django's default)")
    table = connection.ops.quote_name(AuditEvent._meta.db_table)
    with connection.cursor() as cursor:
        if not isinstance(cursor.cursor, psycopg.ClientCursor):
            lock_log(tenant_id)
            return tail(tenant_id)
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0)); "
            f"SELECT seq, chain_hash FROM {table} WHERE tenant_id = %s ORDER BY seq DESC LIMIT 1",
            [f"{LOCK_PREFIX}{tenant_id}", tenant_id],
        )
        cursor.nextset()
        row = cursor.fetchone()
    return (0, ZERO_HASH) if row is None else (row[0] + 1, row[1])


def chain_hash(previous_hex: str, leaf: bytes) -> bytes:
    """SHA-256(previous chain hash || leaf hash); the first event's previous is 32 zero bytes."""
    return sha256(bytes.fromhex(previous_hex) + leaf).digest()


_EVENT_COLUMNS = (
    "tenant_id",
    "seq",
    "event_type",
    "occurred_at",
    "actor_id",
    "target_type",
    "target_id",
    "canonical",
    "leaf_hash",
    "chain_hash",
)
_PERSONAL_COLUMNS = ("tenant_id", "seq", "subject_id", "values")


def _insert(values: dict, personal: list[tuple]) -> int:
    """Insert the event and its clear personal values in one statement (one round trip); return the event's id."""
    from audit.models import AuditEvent, PersonalValue

    quote = connection.ops.quote_name
    params = [values[column] for column in _EVENT_COLUMNS]
    params[3] = connection.ops.adapt_datetimefield_value(params[3])
    sql = (
        f"INSERT INTO {quote(AuditEvent._meta.db_table)} ({', '.join(_EVENT_COLUMNS)}) "
        f"VALUES ({', '.join(['%s'] * len(_EVENT_COLUMNS))}) RETURNING id"
    )
    if personal and connection.vendor == "postgresql":
        rows = ", ".join(["(" + ", ".join(["%s"] * len(_PERSONAL_COLUMNS)) + ")"] * len(personal))
        sql = (
            f"WITH personal AS (INSERT INTO {quote(PersonalValue._meta.db_table)} "
            f"({', '.join(map(quote, _PERSONAL_COLUMNS))}) "
            f"VALUES {rows}) {sql}"
        )
        params = [item for row in personal for item in row] + params
        personal = []
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        event_id = cursor.fetchone()[0]
    if personal:
        PersonalValue.objects.bulk_create(
            PersonalValue(**dict(zip(_PERSONAL_COLUMNS, row, strict=True))) for row in personal
        )
    return event_id


def append(tenant_id: int, build: Callable[[int], tuple[dict, dict, list[tuple]]]):
    """Append one event; must run inside a transaction.

    ``build(seq)`` returns (payload, indexed columns, personal rows ``(subject_id, values JSON)``).
    """
    from audit.models import AuditEvent

    seq, previous = lock_and_tail(tenant_id)
    payload, columns, personal = build(seq)
    data = canonical_bytes(payload)
    leaf = merkle.leaf_hash(data)
    values = {
        "tenant_id": tenant_id,
        "seq": seq,
        "canonical": data.decode("utf-8"),
        "leaf_hash": leaf.hex(),
        "chain_hash": chain_hash(previous, leaf).hex(),
        **columns,
    }
    event_id = _insert(values, [(tenant_id, seq, *row) for row in personal])
    event = AuditEvent(id=event_id, **values)
    event._state.adding = False
    event.__dict__["_payload"] = payload
    return event
