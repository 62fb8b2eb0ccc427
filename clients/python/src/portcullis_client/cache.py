"""A small thread-safe TTL cache of answers (the portal's own freshness: a revocation counts within ~1 s)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable


class TTLCache:
    """``get``/``put`` with a lifetime per entry; ``clear`` for a webhook's invalidation. Bounded in size."""

    def __init__(self, ttl: float, max_entries: int = 100_000, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._clock = clock
        self._entries: dict[Hashable, tuple[float, object]] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> object | None:
        found = self._entries.get(key)  # a dict read is atomic: the fast path takes no lock
        if found is None:
            return None
        if found[0] < self._clock():
            self._entries.pop(key, None)
            return None
        return found[1]

    def put(self, key: Hashable, value: object) -> None:
        if self.ttl <= 0:
            return
        with self._lock:
            if len(self._entries) >= self.max_entries:
                self._entries.clear()  # simple and safe: a miss only asks the portal again
            self._entries[key] = (self._clock() + self.ttl, value)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
