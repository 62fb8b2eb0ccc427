"""Rate limits of the account pages (INS-7): password-reset requests, invitation resends, password changes.

Fixed windows counted in Django's cache (Redis in production, so every process shares the count). Keys are
SHA-256 digests, so no e-mail address or client address sits in the cache in clear. Each limit is counted
the same way whether or not an account exists, so a refusal tells nothing about the address.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass

from django.core.cache import cache

from audit.context import current_origin, origin

logger = logging.getLogger("portcullis.accounts")


@dataclass(frozen=True)
class Limit:
    scope: str
    limit: int
    window: int  # seconds


RESET_PER_ADDRESS = Limit("reset-address", 10, 15 * 60)
RESET_PER_ACCOUNT = Limit("reset-account", 3, 60 * 60)
RESEND_PER_INVITEE = Limit("resend-invitee", 3, 60 * 60)
RESEND_PER_ACTOR = Limit("resend-actor", 20, 60 * 60)
# A wrong current password counts like a failed login (AUTH-2): 5 in 15 minutes lock the account's changes.
PASSWORD_CHANGE_FAILURES = Limit("password-change", 5, 15 * 60)


def _key(limit: Limit, value: str, now: float | None = None) -> str:
    window = int((now or time.time()) // limit.window)
    digest = hashlib.sha256(f"{limit.scope}\x00{value}".encode()).hexdigest()[:32]
    return f"portcullis:limit:{limit.scope}:{digest}:{window}"


def _count(limit: Limit, value: str) -> int:
    key = _key(limit, value)
    if cache.add(key, 1, timeout=limit.window + 5):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=limit.window + 5)
        return 1


def hit(limit: Limit, value: str) -> bool:
    """Count one attempt; True while the attempts of this window are within the limit."""
    return _count(limit, str(value).strip().lower()) <= limit.limit


def exhausted(limit: Limit, value: str) -> bool:
    """Whether this window already holds ``limit`` attempts (without counting one)."""
    return (cache.get(_key(limit, str(value).strip().lower())) or 0) >= limit.limit


def clear(limit: Limit, value: str) -> None:
    cache.delete(_key(limit, str(value).strip().lower()))


def after_response(response, func) -> None:
    """Run ``func`` once the response has been sent (when the server closes it), with the request's audit
    origin: the client waits for none of it, so its timing does not depend on what ``func`` finds."""
    kept = current_origin()

    def run():
        try:
            with origin(kept):
                func()
        except Exception:  # the client has its answer already; the failure is logged with its context
            logger.exception("work after the response failed")

    response._resource_closers.append(run)
