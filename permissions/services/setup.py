"""A new tenant's modules and built-in role matrices."""

from __future__ import annotations

from accounts.scoping import tenant_scope
from permissions.models import Module, Role, RolePermission
from permissions.versioning import bump
from permissions.vocabulary import (
    BUILTIN_MATRICES,
    BUSINESS_ACTIONS,
    BUSINESS_SENSITIVE,
    SYSTEM_ACTIONS,
    BusinessModule,
    ModuleKind,
    SystemModule,
    mask_of,
)


def setup_tenant(tenant) -> None:
    """Create the system and business modules and the built-in matrices (idempotent; inside create_tenant)."""
    with tenant_scope(tenant):
        existing = {m.key: m for m in Module.objects.all()}
        modules = dict(existing)
        for key in SystemModule:
            if key.value not in modules:
                modules[key.value] = Module.objects.create(
                    tenant=tenant,
                    key=key.value,
                    name=str(key.label),
                    kind=ModuleKind.SYSTEM,
                    actions=mask_of(SYSTEM_ACTIONS[key]),
                )
        for key in BusinessModule:
            if key.value not in modules:
                modules[key.value] = Module.objects.create(
                    tenant=tenant,
                    key=key.value,
                    name=str(key.label),
                    kind=ModuleKind.BUSINESS,
                    actions=mask_of(BUSINESS_ACTIONS),
                    sensitive_attributes=BUSINESS_SENSITIVE[key],
                )
        roles = {role.key: role for role in Role.objects.filter(builtin=True)}
        have = set(RolePermission.objects.values_list("role_id", "module_id"))
        for role_key, matrix in BUILTIN_MATRICES.items():
            role = roles.get(role_key)
            if role is None:
                continue
            for module_key, actions in matrix.items():
                module = modules[str(module_key)]
                if (role.pk, module.pk) not in have:
                    RolePermission.objects.create(tenant=tenant, role=role, module=module, actions=mask_of(actions))
    bump(tenant.pk)
