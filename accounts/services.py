"""Use cases that change tenants and users. Views and commands call these; nothing else writes."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction

from accounts.models import Tenant, User
from accounts.scoping import tenant_scope
from permissions.models import BuiltinRole, Role


@transaction.atomic
def create_tenant(*, name: str, slug: str) -> Tenant:
    """A new tenant with its three built-in roles."""
    tenant = Tenant(name=name, slug=slug)
    tenant.full_clean()
    tenant.save()
    with tenant_scope(tenant):
        for builtin in BuiltinRole:
            Role.objects.create(tenant=tenant, key=builtin.value, name=str(builtin.label), builtin=True)
    return tenant


@transaction.atomic
def create_user(
    *, tenant: Tenant, email: str, password: str | None, role: Role, full_name: str = "", is_active: bool = True
) -> User:
    """A user of ``tenant`` holding ``role`` (which must be one of the tenant's)."""
    if role.tenant_id != tenant.pk:
        raise ValueError("role belongs to another tenant")
    return User.objects.create_user(email, password, tenant=tenant, role=role, full_name=full_name, is_active=is_active)


def set_language(user: User, language: str) -> None:
    """Remember the user's language for every later request."""
    if language not in dict(settings.LANGUAGES):
        raise ValueError(f"unsupported language {language!r}")
    user.language = language
    user.save(update_fields=["language"])
