"""Rate limits per API key (the key's ``rate_per_minute``), per session user, per anonymous address.

A fixed one-minute window counted in Django's cache (Redis in production, so every process shares
the count): one ``incr`` per request. Over the limit, DRF answers 429 with ``Retry-After`` (the
seconds left in the window).
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import BaseThrottle

from api.permissions import key_of

WINDOW = 60


class KeyRateThrottle(BaseThrottle):
    """Counts requests per key (or user, or address) per minute."""

    def allow_request(self, request, view) -> bool:
        key = key_of(request)
        if key is not None:
            ident, limit = f"k{key.pk}", key.rate_per_minute
        elif request.user and request.user.is_authenticated:
            ident, limit = f"u{request.user.pk}", settings.API_SESSION_RATE_PER_MINUTE
        else:
            ident, limit = f"a{self.get_ident(request)}", settings.API_ANONYMOUS_RATE_PER_MINUTE
        now = time.time()
        window = int(now // WINDOW)
        name = f"portcullis:throttle:{ident}:{window}"
        try:
            count = cache.incr(name)
        except ValueError:  # first request of the window
            if cache.add(name, 1, timeout=WINDOW + 5):
                count = 1
            else:
                count = cache.incr(name)
        self._wait = (window + 1) * WINDOW - now
        return count <= limit

    def wait(self) -> float:
        return max(1.0, getattr(self, "_wait", WINDOW))
