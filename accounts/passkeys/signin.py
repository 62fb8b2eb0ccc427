"""A passkey sign-in or verification, with everything the password login respects around it.

- **Sign-in** (a visitor): failures from one client address are limited (an unknown credential names no
  account); a known passkey's account is held to django-axes' lockout of (account, address) like a wrong
  password (AUTH-2): checked before anything is verified, and every refused answer counts. A deactivated
  account or tenant is refused (as ``EmailBackend`` refuses it). Failures are audited as
  ``auth.login_failed`` with ``factor: passkey`` and the reason (LOG-6: never the answer itself).
- **Verification** (a signed-in user: the MFA step, step-up, the passkey policy): failures are limited per
  user and audited as ``auth.mfa_failed``.

The session side of a success (``django.contrib.auth.login``, the session registry, ``mark_verified``) is the
view's; this module only decides.
"""

from __future__ import annotations

from axes.handlers.proxy import AxesProxyHandler
from django.db import transaction

import audit
from accounts import throttles
from accounts.passkeys import assertions
from accounts.passkeys.assertions import Outcome, Result
from accounts.passkeys.challenges import Pending
from audit.events import EventType

SIGN_IN_PER_ADDRESS = throttles.Limit("passkey-sign-in-address", 20, 15 * 60)
VERIFY_PER_USER = throttles.Limit("passkey-verify-user", 5, 15 * 60)


def sign_in(request, pending: Pending, credential) -> Result:
    """Check a visitor's passkey answer; the result names the passkey (and so the user) when it is known."""
    address = request.client_address
    if throttles.exhausted(SIGN_IN_PER_ADDRESS, address):
        return Result(Outcome.LOCKED)
    parsed = assertions.parse(credential)
    passkey = assertions.find_for_sign_in(parsed, pending) if parsed is not None else None
    if passkey is None:
        throttles.hit(SIGN_IN_PER_ADDRESS, address)
        return Result(Outcome.INVALID if parsed is None else Outcome.UNKNOWN)
    user = passkey.user
    if _locked_out(request, user):
        outcome = Outcome.LOCKED  # nothing is verified while the pair is locked
    else:
        outcome = assertions.check(passkey, parsed, pending, stage="login")
    if outcome is Outcome.OK and not _can_sign_in(user):
        outcome = Outcome.INACTIVE
    if outcome is not Outcome.OK:
        throttles.hit(SIGN_IN_PER_ADDRESS, address)
        with transaction.atomic():
            audit.record(
                EventType.LOGIN_FAILED,
                tenant=user.tenant,
                actor=None,
                target=user,
                after={"factor": "passkey", "reason": outcome.value},
            )
        if outcome not in (Outcome.INACTIVE, Outcome.LOCKED) and _count_failure(request, user):
            outcome = Outcome.LOCKED
    return Result(outcome, passkey)


def verify(request, pending: Pending, credential) -> Result:
    """Check a signed-in user's passkey answer (only their own passkeys can pass)."""
    user = request.user
    if throttles.exhausted(VERIFY_PER_USER, user.pk):
        return Result(Outcome.LOCKED)
    parsed = assertions.parse(credential)
    passkey = assertions.find_for_user(parsed, user) if parsed is not None else None
    stage = str(pending.context.get("stage", "login"))
    if passkey is None:
        outcome = Outcome.INVALID if parsed is None else Outcome.UNKNOWN
    else:
        outcome = assertions.check(passkey, parsed, pending, stage=stage)
    if outcome is Outcome.OK:
        throttles.clear(VERIFY_PER_USER, user.pk)
        return Result(outcome, passkey)
    throttles.hit(VERIFY_PER_USER, user.pk)
    with transaction.atomic():
        audit.record(
            EventType.MFA_FAILED,
            tenant=user.tenant,
            actor=user,
            target=user,
            after={
                "factor": "passkey",
                "device": passkey.pk if passkey else None,
                "reason": outcome.value,
                "stage": stage,
            },
        )
    return Result(outcome, passkey)


def _can_sign_in(user) -> bool:
    from accounts.backends import EmailBackend

    return EmailBackend().user_can_authenticate(user)


def _credentials(user) -> dict:
    return {"username": user.email}


def _locked_out(request, user) -> bool:
    """django-axes' lockout of (account, address), the password login's own (AUTH-2)."""
    return AxesProxyHandler.is_locked(request, _credentials(user))


def _count_failure(request, user) -> bool:
    """Count a refused answer against (account, address) as axes counts a wrong password; True when this
    failure locked the pair. The view answers the lockout itself (JSON), so axes' page is not swapped in."""
    AxesProxyHandler.user_login_failed(sender=__name__, credentials=_credentials(user), request=request)
    locked = bool(getattr(request, "axes_locked_out", False))
    request.axes_locked_out = False
    return locked
