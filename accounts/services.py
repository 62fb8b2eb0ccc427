"""Use cases that change tenants and users. Views and commands call these; nothing else writes."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction

import audit
from accounts.models import Tenant, User
from accounts.scoping import tenant_scope
from accounts.sessions import end_user_sessions
from audit.events import EventType
from permissions.models import BuiltinRole, Role
from permissions.services.setup import setup_tenant


@transaction.atomic
def create_tenant(*, name: str, slug: str, actor: User | None = None) -> Tenant:
    """A new tenant with its three built-in roles."""
    tenant = Tenant(name=name, slug=slug)
    tenant.full_clean()
    tenant.save()
    with tenant_scope(tenant):
        for builtin in BuiltinRole:
            Role.objects.create(tenant=tenant, key=builtin.value, name=str(builtin.label), builtin=True)
    setup_tenant(tenant)  # modules and the built-in role matrices
    audit.record(
        EventType.TENANT_CREATED, tenant=tenant, actor=actor, target=tenant, after={"name": name, "slug": slug}
    )
    return tenant


@transaction.atomic
def create_user(
    *,
    tenant: Tenant,
    email: str,
    password: str | None,
    role: Role,
    full_name: str = "",
    is_active: bool = True,
    actor: User | None = None,
) -> User:
    """A user of ``tenant`` holding ``role`` (which must be one of the tenant's)."""
    if role.tenant_id != tenant.pk:
        raise ValueError("role belongs to another tenant")
    user = User.objects.create_user(email, password, tenant=tenant, role=role, full_name=full_name, is_active=is_active)
    audit.record(
        EventType.USER_CREATED,
        tenant=tenant,
        actor=actor,
        target=user,
        after={"email": user.email, "role": role.key, "is_active": is_active},
    )
    return user


@transaction.atomic
def invite_user(*, tenant: Tenant, email: str, role: Role, actor: User, full_name: str = "") -> User:
    """An inactive account with no usable password; the login issue adds the e-mailed single-use link."""
    if actor.tenant_id != tenant.pk or role.tenant_id != tenant.pk:
        raise ValueError("actor and role must belong to the tenant")
    user = User.objects.create_user(email, None, tenant=tenant, role=role, full_name=full_name, is_active=False)
    audit.record(EventType.USER_INVITED, tenant=tenant, actor=actor, target=user, after={"email": user.email})
    return user


@transaction.atomic
def deactivate_user(user: User, *, actor: User, reason: str = "") -> User:
    """The user can do nothing more: every session ends now, and no login succeeds."""
    if not user.is_active:
        return user
    user.is_active = False
    user.save(update_fields=["is_active"])
    audit.record(
        EventType.USER_DEACTIVATED,
        tenant=user.tenant,
        actor=actor,
        target=user,
        before={"is_active": True},
        after={"is_active": False},
        reason=reason,
    )
    transaction.on_commit(lambda: end_user_sessions(user))
    return user


@transaction.atomic
def reactivate_user(user: User, *, actor: User, reason: str = "") -> User:
    """Let a deactivated user log in again."""
    if user.is_active:
        return user
    user.is_active = True
    user.save(update_fields=["is_active"])
    audit.record(
        EventType.USER_REACTIVATED,
        tenant=user.tenant,
        actor=actor,
        target=user,
        before={"is_active": False},
        after={"is_active": True},
        reason=reason,
    )
    return user


def set_language(user: User, language: str) -> None:
    """Remember the user's language for every later request."""
    if language not in dict(settings.LANGUAGES):
        raise ValueError(f"unsupported language {language!r}")
    user.language = language
    user.save(update_fields=["language"])
