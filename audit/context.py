"""Who and where a change comes from, set once per request (or job) and read by ``audit.record``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class Origin:
    """The client address, user agent and request id of the work in progress."""

    address: str = ""
    user_agent: str = ""
    request_id: str = ""


_EMPTY = Origin()
_origin: ContextVar[Origin | None] = ContextVar("audit_origin", default=None)


def current_origin() -> Origin:
    """The origin of the current request or job (empty fields outside one)."""
    return _origin.get() or _EMPTY


@contextmanager
def origin(value: Origin) -> Iterator[None]:
    """Run the block with ``value`` as the origin of every event it records."""
    token = _origin.set(value)
    try:
        yield
    finally:
        _origin.reset(token)


def client_address(request, trusted_proxy_count: int) -> str:
    """The client's address: the socket peer, or the entry ``trusted_proxy_count`` hops from the right of
    X-Forwarded-For. Entries a client adds on the left are never trusted, so forging the header changes nothing."""
    remote = request.META.get("REMOTE_ADDR", "")
    if trusted_proxy_count <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(forwarded) < trusted_proxy_count:
        return remote
    return forwarded[-trusted_proxy_count]
