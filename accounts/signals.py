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
from accounts.scoping import tenant_scope
from audit.events import EventType


@receiver(post_delete, sender="accounts.User", dispatch_uid="portcullis_user_deleted_bumps")
def _user_deleted(sender, instance, **kwargs):
    """A deleted user (one by one, in bulk or by a cascade) is forgotten by every process."""
    from accounts.models import bump_authorization

    bump_authorization(instance.tenant_id)


def _tenant_users(email, tenant_slug: str = "") -> list:
    """The tenant accounts of an address (e-mails are unique per tenant: it may have several), each of which
    records the failure in its own tenant's log."""
    from accounts.models import User

    if not email:
        return []
    found = User.objects.accounts_for_login(str(email).strip().lower()[:254], tenant_slug or "")
    return [user for user in found if user.tenant_id is not None]


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
    credentials = credentials or {}
    reason = "locked_out" if getattr(request, "axes_locked_out", False) else "password"
    # An unknown account has no tenant log to write to.
    for user in _tenant_users(credentials.get("username"), credentials.get("tenant_slug", "")):
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
    for user in _tenant_users(username):
        with transaction.atomic():
            audit.record(EventType.LOCKOUT, tenant=user.tenant, actor=None, target=user, after={"minutes": 15})


def record_login_succeeded(user, factor: str) -> None:
    """The login is complete (password, and the MFA step where there is one)."""
    with transaction.atomic():
        audit.record(EventType.LOGIN_SUCCEEDED, tenant=user.tenant, actor=user, target=user, after={"factor": factor})
