"""Receivers that keep the session registry and record authentication events (LOG-6: never a password,
code or session id in them; only the account, the outcome and the request's origin)."""

from __future__ import annotations

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

import audit
from accounts import sessions
from accounts.scoping import dangerously_unscoped, tenant_scope
from audit.events import EventType


@receiver(post_delete, sender="accounts.User", dispatch_uid="portcullis_user_deleted_bumps")
def _user_deleted(sender, instance, **kwargs):
    """A deleted user (one by one, in bulk or by a cascade) is forgotten by every process."""
    from accounts.models import bump_authorization

    bump_authorization(instance.tenant_id)


def _tenant_user(email):
    from accounts.models import User

    if not email:
        return None
    # Before login no tenant is known; e-mails are unique across the platform (as in the backend).
    with dangerously_unscoped():
        return User.objects.select_related("tenant").filter(email=str(email).strip().lower()[:254]).first()


@receiver(user_logged_in, dispatch_uid="portcullis_register_session")
def register_session(sender, request, user, **kwargs):
    if request is not None and getattr(request, "session", None) is not None:
        sessions.register(request, user)


@receiver(user_logged_out, dispatch_uid="portcullis_record_logout")
def record_logout(sender, request, user, **kwargs):
    if user is None or not getattr(user, "tenant_id", None):
        return
    with transaction.atomic(), tenant_scope(user.tenant):
        row = sessions.current(request) if request is not None else None
        if row is not None:
            sessions.end(row)
        audit.record(EventType.LOGOUT, tenant=user.tenant, actor=user, target=user)


@receiver(user_login_failed, dispatch_uid="portcullis_record_login_failure")
def record_login_failure(sender, credentials, request=None, **kwargs):
    user = _tenant_user((credentials or {}).get("username"))
    if user is None or user.tenant_id is None:
        return  # an unknown account has no tenant log to write to
    reason = "locked_out" if getattr(request, "axes_locked_out", False) else "password"
    with transaction.atomic():
        audit.record(
            EventType.LOGIN_FAILED,
            tenant=user.tenant,
            actor=None,
            target=user,
            after={"factor": "password", "reason": reason},
        )


@receiver(user_locked_out, dispatch_uid="portcullis_record_lockout")
def record_lockout(sender, request, username, ip_address, **kwargs):
    user = _tenant_user(username)
    if user is None or user.tenant_id is None:
        return
    with transaction.atomic():
        audit.record(EventType.LOCKOUT, tenant=user.tenant, actor=None, target=user, after={"minutes": 15})


def record_login_succeeded(user, factor: str) -> None:
    """The login is complete (password, and the MFA step where there is one)."""
    with transaction.atomic():
        audit.record(EventType.LOGIN_SUCCEEDED, tenant=user.tenant, actor=user, target=user, after={"factor": factor})
