"""Per-tenant authorization version: the engine's cache key part that a write changes.

The shared version lives in Django's cache (local memory by default, Redis in production) under a
per-tenant key; a write bumps it with ``transaction.on_commit`` so every process sees the change on
its next request. Each process also keeps a local generation per tenant that a write bumps at once,
so the writing process (and its own later checks in the same transaction) never reads a stale set.

Reading the shared version costs a cache round trip (about 0.1 ms on Redis); ``request_versions()``
reads it at most once per tenant per request (``AuthzMiddleware`` opens it), which is what keeps warm
checks at a few microseconds. Outside a request context every check reads the shared version.

If the cache loses a version (eviction, restart), it restarts from the current time in
nanoseconds, which is larger than any version handed out before: no stale entry can match again.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.core.cache import cache
from django.db import transaction

_KEY = "portcullis:authz:version:{}"
_local_generation: dict[int, int] = {}
_request_memo: ContextVar[dict[int, int] | None] = ContextVar("authz_request_versions", default=None)


def shared_version(tenant_id: int) -> int:
    """The tenant's version in the shared cache (created when missing)."""
    key = _KEY.format(tenant_id)
    value = cache.get(key)
    if value is None:
        cache.add(key, time.time_ns(), timeout=None)
        value = cache.get(key) or time.time_ns()
    return value


def current_version(tenant_id: int) -> tuple[int, int]:
    """(shared version, local generation) to compare a cached set against."""
    memo = _request_memo.get()
    if memo is None:
        return shared_version(tenant_id), _local_generation.get(tenant_id, 0)
    shared = memo.get(tenant_id)
    if shared is None:
        shared = memo[tenant_id] = shared_version(tenant_id)
    return shared, _local_generation.get(tenant_id, 0)


@contextmanager
def request_versions() -> Iterator[None]:
    """Read each tenant's shared version once for the block (one request)."""
    token = _request_memo.set({})
    try:
        yield
    finally:
        _request_memo.reset(token)


def _bump_shared(tenant_id: int) -> None:
    key = _KEY.format(tenant_id)
    try:
        cache.incr(key)
    except ValueError:  # missing: restart above every version handed out before
        cache.set(key, time.time_ns(), timeout=None)
    _bump_local(tenant_id)


def _bump_local(tenant_id: int) -> None:
    _local_generation[tenant_id] = _local_generation.get(tenant_id, 0) + 1
    memo = _request_memo.get()
    if memo is not None:
        memo.pop(tenant_id, None)


def bump(tenant_id: int) -> None:
    """Invalidate the tenant's cached permission sets: now in this process, at commit everywhere."""
    _bump_local(tenant_id)
    transaction.on_commit(lambda: _bump_shared(tenant_id))
