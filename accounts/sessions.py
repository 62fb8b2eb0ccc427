"""Ending a user's sessions on the server (deactivation, password change, "log out other sessions").

Foundation version: scans the database session store. The login issue replaces this with a
per-user session registry that also works with the Redis session store.
"""

from django.contrib.sessions.models import Session
from django.utils import timezone


def end_user_sessions(user, *, keep_session_key: str | None = None) -> int:
    """Delete every live session of ``user`` but ``keep_session_key``; returns how many ended."""
    ended = 0
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if session.session_key == keep_session_key:
            continue
        if str(session.get_decoded().get("_auth_user_id")) == str(user.pk):
            session.delete()
            ended += 1
    return ended
