"""The per-user session registry: start, rotate, touch and end sessions, for any session store.

Every session of a tenant user has a ``UserSession`` row (created at login by a ``user_logged_in``
receiver). ``SessionGuardMiddleware`` refuses a session without its row, so deleting the row ends
the session everywhere at once, whether sessions live in the database or in Redis; the stored
session is deleted too (its key is kept encrypted for that).
"""

from __future__ import annotations

import hashlib
from importlib import import_module

from django.conf import settings
from django.utils import timezone

from accounts.auth_models import UserSession
from accounts.scoping import tenant_scope
from audit.context import current_origin
from vault.cipher import DecryptionFailed

AUTH_AT = "portcullis_auth_at"  # when the password (or an invitation/reset link) was last proved


def digest(session_key: str) -> str:
    return hashlib.sha256(session_key.encode()).hexdigest()


def _store():
    return import_module(settings.SESSION_ENGINE).SessionStore


def register(request, user) -> UserSession | None:
    """Record the request's (new) session for ``user``; platform operators have no registry."""
    if not user.tenant_id or not request.session.session_key:
        return None
    key = request.session.session_key
    origin = current_origin()
    with tenant_scope(user.tenant):
        row = UserSession.objects.create(
            tenant=user.tenant,
            user=user,
            key_digest=digest(key),
            encrypted_key=key,
            address=getattr(request, "client_address", "") or origin.address,
            user_agent=request.headers.get("User-Agent", "")[:400],
        )
    request.session[AUTH_AT] = timezone.now().timestamp()
    return row


def current(request) -> UserSession | None:
    """The registry row of the request's session (inside the user's tenant scope)."""
    key = request.session.session_key
    if not key:
        return None
    return UserSession.objects.filter(user=request.user, key_digest=digest(key)).first()


def rekey(request, old_key: str | None) -> None:
    """After the session key changed (cycle_key), point the registry row at the new key."""
    user = request.user
    new_key = request.session.session_key
    if not (old_key and new_key and user.is_authenticated and user.tenant_id):
        return
    with tenant_scope(user.tenant):
        row = UserSession.objects.filter(user=user, key_digest=digest(old_key)).first()
        if row is None:
            return
        row.key_digest = digest(new_key)
        row.encrypted_key = new_key
        row.save(update_fields=["key_digest", "encrypted_key"])


def rotate(request) -> None:
    """A new session id for the same session data (SES-1), keeping the registry row."""
    old_key = request.session.session_key
    request.session.cycle_key()
    rekey(request, old_key)


def end(row: UserSession) -> None:
    """End one session: its registry row and its stored data."""
    try:
        key = row.encrypted_key
    except DecryptionFailed:  # the tenant was crypto-shredded: the row still goes
        key = None
    if key:
        _store()().delete(key)
    row.delete()


def end_user_sessions(user, *, keep_session_key: str | None = None) -> int:
    """End every session of ``user`` but ``keep_session_key``; returns how many ended."""
    if not user.tenant_id:
        return 0
    keep = digest(keep_session_key) if keep_session_key else None
    ended = 0
    with tenant_scope(user.tenant):
        for row in list(UserSession.objects.filter(user=user)):
            if row.key_digest == keep:
                continue
            end(row)
            ended += 1
    return ended


def clear_expired_sessions(now) -> int:
    """The job: delete stored sessions past their expiry (sessions live in the database, read through the
    cache; a cache entry expires by itself). Returns how many were deleted."""
    from django.contrib.sessions.models import Session

    deleted, _ = Session.objects.filter(expire_date__lt=now).delete()
    return deleted
