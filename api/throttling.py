"""Rate limits per API key (the key's ``rate_per_minute``), per session user, per anonymous address.

A fixed one-minute window counted in Django's cache (Redis in production, so every process shares the
count). Over the limit, DRF answers 429 with ``Retry-After`` (the seconds left in the window).

The shared count costs a cache round trip; for a generous limit (≥ 200 a minute) each process adds
its requests to it in small batches (at most ``limit // 20``, ≤ 50, and at least every quarter
second), so a key can overshoot by at most that batch per process (≤ 5 %). Smaller limits are
counted exactly, one round trip per request.

When the cache is unavailable (down, refusing writes: see ``portal.cache``) the throttle does not fail
and does not fail open: each process counts the window by itself and enforces the same limit, so a key
gets at most its limit per process (limit × processes in all) until the cache answers again.
"""

from __future__ import annotations

import threading
import time

import redis
from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import BaseThrottle

from api.permissions import key_of
from audit.context import client_address

WINDOW = 60
FLUSH_SECONDS = 0.25
MAX_BATCH = 50  # one round trip per 50 requests at most (at 10 the round trips took about 6 % of a check's time)

_lock = threading.Lock()
# window key → [shared count last seen, requests not yet added, monotonic time of the last flush]
_local: dict[str, list] = {}
# window key → this process's own count, used while the cache is unavailable
_fallback: dict[str, int] = {}


def forget() -> None:
    """Forget the local counts (tests)."""
    _local.clear()
    _fallback.clear()


def _local_add(name: str, amount: int) -> int:
    """The window's count in this process alone (the cache is unavailable)."""
    with _lock:
        if name not in _fallback and len(_fallback) > 10_000:
            _fallback.clear()
        count = _fallback[name] = _fallback.get(name, 0) + amount
    return count


def _add(name: str, amount: int) -> int:
    """Add ``amount`` to the window's shared count; returns the new count (one round trip on Redis:
    Django's own ``cache.incr`` costs two, EXISTS then INCRBY). When the cache fails (down, refusing
    writes), the count of this process alone: each process then enforces the limit by itself."""
    raw = getattr(cache, "_cache", None)
    breaker = getattr(cache, "breaker", None)
    if raw is not None and hasattr(raw, "get_client"):  # django.core.cache.backends.redis.RedisCache
        if breaker is not None and not breaker.available():
            return _local_add(name, amount)
        key = cache.make_and_validate_key(name)
        try:
            client = raw.get_client(key, write=True)
            count = client.incrby(key, amount)
            if count == amount:
                client.expire(key, WINDOW + 5)
        except redis.RedisError as exc:
            if breaker is not None:
                breaker.fault(exc)
            return _local_add(name, amount)
        return count
    try:
        return cache.incr(name, amount)
    except ValueError:  # first request of the window (or the cache is unavailable)
        if cache.add(name, amount, timeout=WINDOW + 5):
            return amount
        try:
            return cache.incr(name, amount)
        except ValueError:
            return _local_add(name, amount)


def count_request(name: str, limit: int) -> int:
    """This window's count including this request (exact below 200 a minute, batched above)."""
    batch = min(MAX_BATCH, limit // 20)
    if batch <= 1:
        return _add(name, 1)
    now = time.monotonic()
    with _lock:
        entry = _local.get(name)
        if entry is None:
            if len(_local) > 10_000:
                _local.clear()
            entry = _local[name] = [0, 0, 0.0]
        entry[1] += 1
        if entry[1] < batch and now - entry[2] < FLUSH_SECONDS:
            return entry[0] + entry[1]
        pending, entry[1], entry[2] = entry[1], 0, now
    shared = _add(name, pending)
    with _lock:
        entry[0] = max(entry[0], shared)
        return entry[0] + entry[1]


def _anonymous(request) -> tuple[str, int]:
    # Not DRF's get_ident (it trusts X-Forwarded-For when NUM_PROXIES is unset): the portal's own
    # client address, which a forged header cannot change (as for the login lockout, AUTH-2).
    address = client_address(request, settings.TRUSTED_PROXY_COUNT)
    return f"a{address}", settings.API_ANONYMOUS_RATE_PER_MINUTE


def anonymous_refusal_throttled(request) -> float | None:
    """A request refused for its credentials (none, or a bad key: 401) counts against its address's anonymous
    rate (INS-7): DRF checks throttles only after authentication and permissions, so without this, guessing
    keys would never be slowed down. Returns the seconds to wait when the address is over its rate."""
    ident, limit = _anonymous(request)
    now = time.time()
    window = int(now // WINDOW)
    if count_request(f"portcullis:throttle:{ident}:{window}", limit) <= limit:
        return None
    return max(1.0, (window + 1) * WINDOW - now)


class KeyRateThrottle(BaseThrottle):
    """Counts requests per key (or user, or address) per minute."""

    def allow_request(self, request, view) -> bool:
        key = key_of(request)
        if key is not None:
            ident, limit = f"k{key.pk}", key.rate_per_minute
        elif request.user and request.user.is_authenticated:
            ident, limit = f"u{request.user.pk}", settings.API_SESSION_RATE_PER_MINUTE
        else:
            ident, limit = _anonymous(request)
        now = time.time()
        window = int(now // WINDOW)
        count = count_request(f"portcullis:throttle:{ident}:{window}", limit)
        self._wait = (window + 1) * WINDOW - now
        return count <= limit

    def wait(self) -> float:
        return max(1.0, getattr(self, "_wait", WINDOW))
