"""The challenge of a WebAuthn ceremony, kept in the session: one at a time, single use, two minutes.

``issue`` stores a fresh 64-byte challenge (``secrets``, through py_webauthn) with the ceremony's
purpose and context; ``take`` removes it whatever happens next, so an answer can be checked at most once,
and returns it only for the same purpose and within its lifetime.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from webauthn.helpers import generate_challenge

from accounts.passkeys.models import b64url, from_b64url

SESSION_KEY = "portcullis_passkey_challenge"
LIFETIME_SECONDS = 120
TIMEOUT_MS = 60_000  # what the browser is told; the server's lifetime leaves room for the round trip

REGISTER = "register"
LOGIN = "login"
VERIFY = "verify"  # a signed-in user proves a passkey: the MFA step, step-up, the passkey policy


@dataclass
class Pending:
    purpose: str
    challenge: bytes
    context: dict = field(default_factory=dict)


def issue(request, purpose: str, **context) -> bytes:
    """A new challenge for ``purpose``; it replaces any earlier one of this session."""
    challenge = generate_challenge()
    request.session[SESSION_KEY] = {
        "purpose": purpose,
        "challenge": b64url(challenge),
        "expires": time.time() + LIFETIME_SECONDS,
        "context": context,
    }
    return challenge


def take(request, purpose: str) -> Pending | None:
    """The session's challenge for ``purpose`` (removed from the session in every case), or None when
    there is none, it is for another ceremony, or it has expired."""
    stored = request.session.pop(SESSION_KEY, None)
    if not isinstance(stored, dict) or stored.get("purpose") != purpose:
        return None
    if time.time() > float(stored.get("expires", 0)):
        return None
    try:
        challenge = from_b64url(stored.get("challenge", ""))
    except ValueError:
        return None
    return Pending(purpose=purpose, challenge=challenge, context=dict(stored.get("context") or {}))
