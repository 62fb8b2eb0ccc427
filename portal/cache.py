"""Django's Redis cache, reusing one client per connection pool, and tolerating Redis faults.

Reuse: Django's ``RedisCacheClient.get_client`` builds a new ``redis.Redis`` for every cache call, and
redis-py's constructor fills its response-callback table each time: about 0.7 ms of CPU per call here,
more than the network round trip. A ``redis.Redis`` is thread-safe and only borrows connections from
its pool, so one per pool (per process) is equivalent and cheap.

Faults (FC-1): nothing the portal decides depends on this cache (the authorization version is a
database row, sessions are ``cached_db``), so a cache that is down, refuses writes (out of memory,
read-only replica, too few replicas) or times out is treated as a miss: reads return the default,
writes report failure, and the request goes on from the database. After a fault the cache is not asked
again for ``RETRY_SECONDS`` (one probe per process per period), so a Redis that is down costs a
request nothing; each fault period is logged once, as a warning.
"""

from __future__ import annotations

import functools
import logging
import threading
import time

import redis
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient

logger = logging.getLogger("portal.cache")

RETRY_SECONDS = 1.0
#: Short socket timeouts: a Redis that does not answer must not hold a request (the pool's defaults wait
#: forever). Overridable through the cache's OPTIONS.
SOCKET_TIMEOUTS = {"socket_connect_timeout": 0.25, "socket_timeout": 0.5}


class _ReusingClient(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class Breaker:
    """Per-process state of the cache: usable, or faulty until a retry time."""

    def __init__(self):
        self._lock = threading.Lock()
        self.down_until = 0.0
        self.last_error = ""

    def available(self) -> bool:
        return time.monotonic() >= self.down_until

    def fault(self, exc: Exception) -> None:
        with self._lock:
            first = self.available()
            self.down_until = time.monotonic() + RETRY_SECONDS
            self.last_error = type(exc).__name__
        if first:
            logger.warning("cache fault, answering from the database for %ss: %s", RETRY_SECONDS, type(exc).__name__)


def _tolerant(fallback):
    """Run the cache operation unless the breaker is open; a Redis error gives ``fallback(*args)``."""

    def decorate(method):
        @functools.wraps(method)
        def wrapper(self, *args, **kwargs):
            if not self.breaker.available():
                return fallback(*args, **kwargs)
            try:
                return method(self, *args, **kwargs)
            except redis.RedisError as exc:
                self.breaker.fault(exc)
                return fallback(*args, **kwargs)

        return wrapper

    return decorate


def _default(key, default=None, *args, **kwargs):
    return default


def _false(*args, **kwargs):
    return False


def _nothing(*args, **kwargs):
    return None


def _empty(*args, **kwargs):
    return {}


def _all_failed(data, *args, **kwargs):
    return list(data)


def _missing(key, *args, **kwargs):
    raise ValueError(f"Key '{key}' not found (the cache is unavailable)")


class RedisCache(DjangoRedisCache):
    """``django.core.cache.backends.redis.RedisCache`` reusing its clients; a Redis fault is a miss."""

    def __init__(self, server, params):
        options = params.get("OPTIONS") or {}
        params = {**params, "OPTIONS": {**SOCKET_TIMEOUTS, **options}}
        super().__init__(server, params)
        self._class = _ReusingClient
        self.breaker = Breaker()

    get = _tolerant(_default)(DjangoRedisCache.get)
    add = _tolerant(_false)(DjangoRedisCache.add)
    set = _tolerant(_false)(DjangoRedisCache.set)
    touch = _tolerant(_false)(DjangoRedisCache.touch)
    delete = _tolerant(_false)(DjangoRedisCache.delete)
    has_key = _tolerant(_false)(DjangoRedisCache.has_key)
    incr = _tolerant(_missing)(DjangoRedisCache.incr)
    get_many = _tolerant(_empty)(DjangoRedisCache.get_many)
    set_many = _tolerant(_all_failed)(DjangoRedisCache.set_many)
    delete_many = _tolerant(_nothing)(DjangoRedisCache.delete_many)
    clear = _tolerant(_false)(DjangoRedisCache.clear)
