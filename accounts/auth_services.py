"""Use cases around passwords, e-mailed links, sessions and login history.

Invitations and password resets use single-use links (``EmailToken``): 72 hours for an invitation,
one hour for a reset. A reset never yields a full session: it ends in the MFA step (ASVS 6.4.3).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

import audit
from accounts import notices
from accounts.auth_models import EmailToken, UserSession
from accounts.models import Tenant, User
from accounts.scoping import dangerously_unscoped, tenant_scope
from accounts.sessions import end_user_sessions
from audit.events import EventType
from audit.models import AuditEvent

INVITATION_LIFETIME = timedelta(hours=72)
RESET_LIFETIME = timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT)
_TOKEN = re.compile(r"^(\d{1,18})-([A-Za-z0-9_-]{40,64})$")


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def issue_token(user: User, purpose: str) -> str:
    """A new single-use link token for ``user`` (earlier unused ones of the same purpose stop working)."""
    lifetime = INVITATION_LIFETIME if purpose == EmailToken.Purpose.INVITATION else RESET_LIFETIME
    raw = f"{user.tenant_id}-{secrets.token_urlsafe(32)}"
    with tenant_scope(user.tenant):
        EmailToken.objects.filter(user=user, purpose=purpose, used_at__isnull=True).update(
            used_at=timezone.now(), ended=EmailToken.Ended.SUPERSEDED
        )
        EmailToken.objects.create(
            tenant=user.tenant, user=user, purpose=purpose, digest=_digest(raw), expires_at=timezone.now() + lifetime
        )
    return raw


def _lookup(raw: str, purpose: str) -> EmailToken | None:
    match = _TOKEN.match(raw or "")
    if not match:
        return None
    with dangerously_unscoped():  # the link names its tenant; nobody is logged in yet
        tenant = Tenant.objects.filter(pk=int(match.group(1)), is_active=True).first()
    if tenant is None:
        return None
    with tenant_scope(tenant):
        return (
            EmailToken.objects.select_related("user", "user__tenant")
            .filter(digest=_digest(raw), purpose=purpose)
            .first()
        )


def find_token(raw: str, purpose: str) -> EmailToken | None:
    """The usable token ``raw`` of ``purpose``, or None (unknown, used, expired or malformed)."""
    token = _lookup(raw, purpose)
    if token is None or not token.usable:
        return None
    return token


def why_unusable(raw: str, purpose: str) -> str:
    """Why the link ``raw`` does not work, told to whoever holds it: "cancelled", "superseded", "used",
    "expired", or "" (unknown or malformed: nothing more is said)."""
    token = _lookup(raw, purpose)
    if token is None or token.usable:
        return ""
    if token.used_at is not None:
        return token.ended or EmailToken.Ended.USED
    return "expired"


def _send_link(user: User, subject: str, body: str, path: str) -> None:
    link = f"{settings.PORTCULLIS_BASE_URL.rstrip('/')}{path}"
    email, language = user.email, user.language or settings.LANGUAGE_CODE

    def send():
        with translation.override(language):
            send_mail(_(subject), f"{_(body)}\n\n{link}\n", settings.DEFAULT_FROM_EMAIL, [email])

    transaction.on_commit(send)


@transaction.atomic
def send_invitation(user: User, *, actor: User) -> None:
    """E-mail ``user`` a single-use link, valid 72 hours, to set a password and enrol MFA."""
    if user.is_active or user.has_usable_password():
        raise ValueError("only a pending (invited) account gets an invitation")
    raw = issue_token(user, EmailToken.Purpose.INVITATION)
    audit.record(
        EventType.INVITATION_SENT,
        tenant=user.tenant,
        actor=actor,
        target=user,
        after={"expires_in_hours": int(INVITATION_LIFETIME.total_seconds() // 3600)},
    )
    _send_link(
        user,
        gettext_noop("You are invited to Portcullis"),
        gettext_noop(
            "Open this link within 72 hours to choose your password and set up your authenticator app. It works once."
        ),
        reverse("accounts:invitation", kwargs={"token": raw}),
    )


class TooManyRequests(Exception):
    """A rate limit of the account pages was reached (INS-7); nothing was done."""


def resend_invitation(user: User, *, actor: User) -> None:
    """Send ``user`` a new invitation link (earlier ones stop working): at most 3 an hour per invitee and
    20 an hour per administrator, so resending cannot flood an inbox or keep killing the previous link."""
    from accounts import throttles

    within = throttles.hit(throttles.RESEND_PER_INVITEE, f"{user.tenant_id}:{user.pk}")
    within = throttles.hit(throttles.RESEND_PER_ACTOR, f"{actor.tenant_id}:{actor.pk}") and within
    if not within:
        raise TooManyRequests
    send_invitation(user, actor=actor)


@transaction.atomic
def cancel_invitation(user: User, *, actor: User, reason: str = "") -> int:
    """Make every open invitation link of ``user`` stop working; returns how many were open."""
    with tenant_scope(user.tenant):
        cancelled = EmailToken.objects.filter(
            user=user, purpose=EmailToken.Purpose.INVITATION, used_at__isnull=True
        ).update(used_at=timezone.now(), ended=EmailToken.Ended.CANCELLED)
    audit.record(
        EventType.INVITATION_CANCELLED,
        tenant=user.tenant,
        actor=actor,
        target=user,
        after={"links": cancelled},
        reason=reason,
    )
    return cancelled


def cancel_open_links(user: User, *, actor: User | None, reason: str = "") -> int:
    """Cancel every open link of ``user`` (invitations and password resets), inside the caller's
    transaction (deactivation, INS-5); audited when there was one. Returns how many were open."""
    with tenant_scope(user.tenant):
        open_links = EmailToken.objects.filter(user=user, used_at__isnull=True)
        invitations = open_links.filter(purpose=EmailToken.Purpose.INVITATION).count()
        cancelled = open_links.update(used_at=timezone.now(), ended=EmailToken.Ended.CANCELLED)
    if cancelled:
        audit.record(
            EventType.INVITATION_CANCELLED,
            tenant=user.tenant,
            actor=actor,
            target=user,
            after={"links": invitations, "reset_links": cancelled - invitations},
            reason=reason,
        )
    return cancelled


@transaction.atomic
def accept_invitation(token: EmailToken, password: str) -> User:
    """Activate the invited account with ``password`` (validated); the link is used up."""
    user = token.user
    validate_password(password, user)
    with tenant_scope(user.tenant):
        locked = EmailToken.objects.select_for_update().get(pk=token.pk)
        if not locked.usable:
            raise ValueError("the invitation was used or has expired")
        locked.used_at = timezone.now()
        locked.ended = EmailToken.Ended.USED
        locked.save(update_fields=["used_at", "ended"])
        user.set_password(password)
        user.is_active = True
        user.save(update_fields=["password", "is_active"])
        audit.record(
            EventType.INVITATION_ACCEPTED, tenant=user.tenant, actor=user, target=user, after={"is_active": True}
        )
    return user


def request_password_reset(email: str) -> None:
    """Send a reset link to each active tenant account of ``email`` (e-mails are unique per tenant, so an
    address may have one in several tenants; each link opens one). Says nothing either way (no enumeration);
    the view calls it after its response is sent."""
    for user in User.objects.accounts_for_login(email):
        if user.is_active and user.tenant_id is not None and user.tenant.is_active:
            _send_reset(user)


@transaction.atomic
def _send_reset(user: User) -> None:
    raw = issue_token(user, EmailToken.Purpose.PASSWORD_RESET)
    audit.record(EventType.PASSWORD_RESET_REQUESTED, tenant=user.tenant, actor=None, target=user)
    _send_link(
        user,
        gettext_noop("Reset your Portcullis password"),
        gettext_noop(
            "Open this link within one hour to choose a new password. It works once. "
            "If you did not ask for it, ignore this e-mail."
        ),
        reverse("accounts:password_reset_confirm", kwargs={"token": raw}),
    )


@transaction.atomic
def reset_password(token: EmailToken, password: str) -> User:
    """Set a new password from a reset link; ends every session of the user."""
    user = token.user
    validate_password(password, user)
    with tenant_scope(user.tenant):
        locked = EmailToken.objects.select_for_update().get(pk=token.pk)
        if not locked.usable:
            raise ValueError("the link was used or has expired")
        locked.used_at = timezone.now()
        locked.ended = EmailToken.Ended.USED
        locked.save(update_fields=["used_at", "ended"])
        user.set_password(password)
        user.save(update_fields=["password"])
        ended = end_user_sessions(user)
        audit.record(
            EventType.PASSWORD_RESET, tenant=user.tenant, actor=user, target=user, after={"sessions_ended": ended}
        )
    notices.notify(user, "password_changed")
    return user


@transaction.atomic
def change_password(user: User, *, current: str, new: str, actor: User, keep_session_key: str | None) -> int:
    """Change the password (the current one is required, AUTH-4); ends the user's other sessions."""
    if not user.check_password(current):
        raise ValueError("current password is wrong")
    validate_password(new, user)
    user.set_password(new)
    user.save(update_fields=["password"])
    ended = end_user_sessions(user, keep_session_key=keep_session_key)
    audit.record(
        EventType.PASSWORD_CHANGED, tenant=user.tenant, actor=actor, target=user, after={"sessions_ended": ended}
    )
    notices.notify(user, "password_changed")
    return ended


@transaction.atomic
def end_other_sessions(user: User, *, actor: User, keep_session_key: str) -> int:
    """ "End the others": every session of ``user`` but the current one."""
    ended = end_user_sessions(user, keep_session_key=keep_session_key)
    audit.record(
        EventType.SESSION_ENDED,
        tenant=user.tenant,
        actor=actor,
        target=user,
        after={"reason": "ended_by_user", "count": ended},
    )
    return ended


def active_sessions(user: User) -> list[UserSession]:
    """The user's live sessions, most recent first."""
    with tenant_scope(user.tenant):
        return list(UserSession.objects.filter(user=user).order_by("-last_seen"))


HISTORY_EVENTS = [
    EventType.LOGIN_SUCCEEDED,
    EventType.LOGIN_FAILED,
    EventType.MFA_FAILED,
    EventType.LOCKOUT,
    EventType.LOGOUT,
]


def factor_label(factor: str) -> str:
    """The factor of a login event, in the reader's language."""
    labels = {
        "password": _("Password"),
        "totp": _("Authenticator app"),
        "backup_code": _("A backup code"),
        "passkey": _("Passkey"),
    }
    if factor.startswith(("oidc:", "saml:")):  # single sign-on (sso/): "<protocol>:<provider>", "+mfa" when its
        provider, _plus, mfa = factor[5:].partition("+")  # MFA counted
        if factor.startswith("saml:"):
            label = _("Single sign-on (SAML: %(provider)s)") % {"provider": provider}
        else:
            label = _("Single sign-on (OpenID Connect: %(provider)s)") % {"provider": provider}
        at_provider = _("MFA at the provider")  # outside the f-string: xgettext reads no f-string
        return f"{label} + {at_provider}" if mfa else label
    return str(labels.get(factor, factor))


def login_history(user: User, *, limit: int = 100) -> list[dict]:
    """The user's logins from the audit log: time, address, browser, outcome and factor, newest first."""
    from accounts.useragent import describe_browser

    with tenant_scope(user.tenant):
        events = list(
            AuditEvent.objects.filter(
                target_type="accounts.user", target_id=str(user.pk), event_type__in=HISTORY_EVENTS
            ).order_by("-occurred_at", "-seq")[:limit]
        )
    rows = []
    for event in events:
        after = event.after or {}
        rows.append(
            {
                "time": event.occurred_at,
                "event": event.get_event_type_label(),
                "event_type": event.event_type,
                "success": event.event_type in (EventType.LOGIN_SUCCEEDED, EventType.LOGOUT),
                "factor": after.get("factor", ""),
                "factor_label": factor_label(after.get("factor", "")),
                "reason": after.get("reason", ""),
                "address": event.address,
                "browser": describe_browser(event.user_agent),
            }
        )
    return rows
