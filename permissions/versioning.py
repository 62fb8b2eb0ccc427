"""Per-tenant authorization version: the engine's cache key part that a change moves.

The version is a row of the database (``permissions.models.AuthzVersion``), raised by ``bump`` in the
same transaction as the change it announces: it commits with the change or not at all, so no cache
fault can separate them (FC-1). Redis plays no part in it: a cache that refuses writes, loses keys,
comes back from an older snapshot or is down cannot make a process answer from a set older than the
database's version.

Reading it is one primary-key lookup. ``request_versions()`` (opened by ``AuthzMiddleware`` and the
check API's fast path) reads it at most once per tenant per request, and a request may reuse what another
request of the same process read less than ``AUTHZ_VERSION_MAX_AGE`` seconds ago (0.25 s in production: a
busy worker reads the row four times a second, not on each of its hundreds of requests); outside a request
every check reads the row. A change committed by any process is therefore seen by every other process
within ``AUTHZ_VERSION_MAX_AGE`` of its commit (the guarantee FC-1 asks is one second), and at once by the
process that made it.

Each process also keeps a local generation per tenant that a bump raises at once, so the writing
process (and its own later checks in the same transaction) never reuses a set built before the
change. Inside a transaction that has bumped the tenant and not yet committed, the version also names
that transaction: what is cached during it (which may hold changes that will roll back) matches nothing
outside it, nor anything after it.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, transaction

from permissions.models import AuthzVersion

_TABLE = AuthzVersion._meta.db_table
_READ = f"SELECT version, sharing_rules FROM {_TABLE} WHERE tenant_id = %s"  # noqa: S608 - a constant table name
_MARK_RULES = f"UPDATE {_TABLE} SET sharing_rules = %s WHERE tenant_id = %s"  # noqa: S608 - a constant table name
_BUMP = (
    f"INSERT INTO {_TABLE} (tenant_id, version) VALUES (%s, 1) "  # noqa: S608 - a constant table name
    f"ON CONFLICT (tenant_id) DO UPDATE SET version = {_TABLE}.version + 1"
)
_local_generation: dict[int, int] = {}
_recent: dict[int, tuple[int, float]] = {}  # tenant → (stored version, when read): shared by this process's requests
_clock = time.monotonic
_rules_seen: dict[int, tuple[int, bool]] = {}  # tenant → (version read, its sharing_rules flag)
_request_memo: ContextVar[dict[int, int] | None] = ContextVar("authz_request_versions", default=None)


def stored_version(tenant_id: int) -> int:
    """The tenant's version in the database (0 before its first change): one primary-key lookup."""
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(_READ, [int(tenant_id)])
        row = cursor.fetchone()
    version = row[0] if row else 0
    _rules_seen[tenant_id] = (version, bool(row[1]) if row else False)
    return version


def has_had_sharing_rules(tenant_id: int, stored: int) -> bool:
    """False only when the version row read at version ``stored`` said the tenant never had a sharing
    rule (the flag is set by the first rule and never cleared); unknown answers True."""
    seen = _rules_seen.get(tenant_id)
    return seen is None or seen[0] != stored or seen[1]


def mark_sharing_rules(tenant_id: int) -> None:
    """Record, in the caller's transaction, that the tenant has a sharing rule (call after ``bump``)."""
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(_MARK_RULES, [True, int(tenant_id)])
    _rules_seen.pop(tenant_id, None)


def current_version(tenant_id: int) -> tuple:
    """(database version, local generation) to compare a cached set against; inside a transaction that
    has bumped the tenant and not committed, a third part names that transaction, so what is cached
    during it is seen by nothing else, and by nothing once it committed or rolled back."""
    memo = _request_memo.get()
    if memo is None:
        stored = stored_version(tenant_id)
    else:
        stored = memo.get(tenant_id)
        if stored is None:
            stored = memo[tenant_id] = _recently_stored(tenant_id)
    token = _open_bump(tenant_id)
    if token is None:
        return stored, _local_generation.get(tenant_id, 0)
    return stored, _local_generation.get(tenant_id, 0), token


def _recently_stored(tenant_id: int) -> int:
    """The stored version as read by this process less than ``AUTHZ_VERSION_MAX_AGE`` ago, else read now."""
    max_age = getattr(settings, "AUTHZ_VERSION_MAX_AGE", 0.0)
    now = _clock()
    recent = _recent.get(tenant_id)
    if recent is not None and now - recent[1] < max_age:
        return recent[0]
    stored = stored_version(tenant_id)
    if max_age > 0:
        _recent[tenant_id] = (stored, now)
    return stored


@contextmanager
def request_versions() -> Iterator[None]:
    """Read each tenant's version once for the block (one request)."""
    token = _request_memo.set({})
    try:
        yield
    finally:
        _request_memo.reset(token)


def _bump_local(tenant_id: int) -> None:
    _local_generation[tenant_id] = _local_generation.get(tenant_id, 0) + 1
    _recent.pop(tenant_id, None)
    memo = _request_memo.get()
    if memo is not None:
        memo.pop(tenant_id, None)


_transactions = itertools.count(1)


# Per thread (Django's connections are per thread): has this thread's connection bumped a tenant in a
# transaction not yet seen to end? Lets ``current_version`` skip the connection lookup in the common case.
class _Bumping(threading.local):
    active = False  # a class default: reading an attribute a thread never set raised and caught an
    # AttributeError in getattr(..., False), at every check (4 % of a batch's CPU)


_bumping = _Bumping()


def _pending(db) -> dict[int, int]:
    """Tenants bumped by the connection's open transaction → that transaction's token (emptied at
    commit; after a rollback, emptied on the next look, as no transaction is open any more)."""
    pending = getattr(db, "_portcullis_authz_pending", None)
    if pending is None:
        pending = db._portcullis_authz_pending = {}
    return pending


def _committed(db, tenant_id: int) -> None:
    _pending(db).pop(tenant_id, None)
    _bump_local(tenant_id)


def _in_transaction(db) -> bool:
    """An atomic block of the application is open (a test case's own wrapping block does not count:
    it stands for the database as the test sees it, and never commits)."""
    return any(not getattr(block, "_from_testcase", False) for block in db.atomic_blocks)


def _open_bump(tenant_id: int) -> int | None:
    """The token of this thread's open transaction when it has bumped the tenant, else None."""
    if not _bumping.active:
        return None
    db = connections[DEFAULT_DB_ALIAS]
    pending = getattr(db, "_portcullis_authz_pending", None)
    if not pending:
        _bumping.active = False
        return None
    if not _in_transaction(db):  # over without a commit callback: rolled back
        pending.clear()
        _bumping.active = False
        return None
    return pending.get(tenant_id)


def bump(tenant_id: int) -> None:
    """Invalidate the tenant's cached permission sets: raise its version row in the caller's transaction
    (call it inside the change's transaction, or after the change), and forget them in this process now.
    Every process sees the new version once the transaction commits."""
    db = connections[DEFAULT_DB_ALIAS]
    with db.cursor() as cursor:
        cursor.execute(_BUMP, [int(tenant_id)])
    _bump_local(tenant_id)
    if _in_transaction(db):
        pending = _pending(db)
        _bumping.active = True
        if tenant_id not in pending:
            pending[tenant_id] = next(_transactions)
            transaction.on_commit(lambda: _committed(db, tenant_id))
