"""Roles: custom roles, matrices, and which role a user holds."""

from __future__ import annotations

from django.db import transaction
from django.utils.text import slugify

import audit
from audit.events import EventType
from permissions.models import BuiltinRole, Module, PendingChange, Role, RolePermission
from permissions.services import gates
from permissions.services.checks import require, require_scope, same_tenant
from permissions.services.errors import AccessRefused, ErrorCode
from permissions.services.escalation import matrix_gain_escalates, role_escalates
from permissions.services.hierarchy import keeps_an_administrator, require_outranks, require_outranks_all
from permissions.versioning import bump
from permissions.vocabulary import Action, actions_of, mask_of


def matrix_of(role: Role) -> dict[str, int]:
    """The role's matrix: module key → actions mask (modules with no action left out)."""
    return {
        cell.module.key: cell.actions
        for cell in RolePermission.objects.filter(role=role).select_related("module")
        if cell.actions
    }


def matrix_gain(role: Role, matrix: dict[str, int]) -> gates.Gain:
    """What giving ``role`` the matrix ``matrix`` ({module key: mask}) gives each of its holders."""
    ids = dict(Module.objects.filter(key__in=list(matrix)).values_list("key", "pk"))
    holders = list(role.users.filter(is_active=True).select_related("tenant"))  # who can use what it gives
    old = matrix_of(role)
    added = {
        ids[key]: mask & ~old.get(key, 0) for key, mask in matrix.items() if key in ids and mask & ~old.get(key, 0)
    }
    new = {ids[key]: mask for key, mask in matrix.items() if key in ids}
    return gates.Gain(users=holders, matrix=new, added=added)


def _readable(matrix: dict[str, int]) -> dict[str, list[str]]:
    return {key: [a.value for a in actions_of(mask)] for key, mask in sorted(matrix.items())}


def _matrix_summary(role, old: dict[str, int], new: dict[str, int], modules: dict) -> str:
    """A pending matrix change in words, for the approvers' list: what the role gains (+) and loses (−) per
    module, by the modules' names ("Reporting: + view, export"), never a Python dict (issue 19)."""
    parts = []
    for key in sorted(set(old) | set(new)):
        name = modules[key].display_name if key in modules else key
        for sign, mask in (("+", new.get(key, 0) & ~old.get(key, 0)), ("−", old.get(key, 0) & ~new.get(key, 0))):
            if mask:
                parts.append(f"{name}: {sign} {', '.join(str(a.label) for a in actions_of(mask))}")
    return f"{role.display_name}: {'; '.join(parts) or '—'}"


def _unique_key(tenant_id, name: str) -> str:
    base = slugify(name)[:40] or "role"
    key, n = base, 1
    while Role.objects.filter(key=key).exists():
        n += 1
        key = f"{base}-{n}"
    return key


@transaction.atomic
def create_role(*, actor, tenant, name: str, description: str = "", name_zh: str = "") -> Role:
    """A custom role with an empty matrix (``name_zh``: its name in the Chinese UI). Needs roles: create."""
    if actor is not None and actor.tenant_id != tenant.pk:
        raise AccessRefused(ErrorCode.CROSS_TENANT)
    require(actor, Action.CREATE, "roles")
    if not name.strip():
        raise AccessRefused(ErrorCode.INVALID, "a role needs a name")
    if Role.objects.filter(name=name.strip()).exists():
        raise AccessRefused(ErrorCode.INVALID, "a role of that name exists")
    role = Role.objects.create(
        tenant=tenant,
        key=_unique_key(tenant.pk, name),
        name=name.strip(),
        name_zh=(name_zh or "").strip()[:100],
        description=description,
    )
    after = {"name": role.name, **({"name_zh": role.name_zh} if role.name_zh else {})}
    audit.record(EventType.ROLE_CREATED, tenant=tenant, actor=actor, target=role, after=after)
    return role


@transaction.atomic
def clone_role(role: Role, *, actor, name: str) -> Role:
    """A custom copy of ``role``'s matrix under a new name (only what the actor holds may be copied)."""
    if actor is not None:
        same_tenant(actor.tenant_id, role)
    matrix = matrix_of(role)
    for key, mask in matrix.items():
        require_scope(actor, mask, key)
    new = create_role(actor=actor, tenant=role.tenant, name=name, description=role.description)
    modules = {m.key: m for m in Module.objects.filter(key__in=list(matrix))}
    RolePermission.objects.bulk_create(
        RolePermission(tenant_id=role.tenant_id, role=new, module=modules[key], actions=mask)
        for key, mask in matrix.items()
    )
    audit.record(
        EventType.ROLE_MATRIX_CHANGED,
        tenant=role.tenant,
        actor=actor,
        target=new,
        before={},
        after=_readable(matrix),
        reason=f"cloned from {role.key}",
    )
    return new


@transaction.atomic
def rename_role(role: Role, *, actor, name: str, name_zh: str | None = None) -> Role:
    """Rename a custom role, and its Chinese name when given (built-in names are translated, so fixed)."""
    if actor is not None:
        same_tenant(actor.tenant_id, role)
    require(actor, Action.CHANGE, "roles")
    if role.builtin:
        raise AccessRefused(ErrorCode.BUILTIN)
    if not name.strip() or Role.objects.filter(name=name.strip()).exclude(pk=role.pk).exists():
        raise AccessRefused(ErrorCode.INVALID, "choose another name")
    before, after = {"name": role.name}, {"name": name.strip()}
    if name_zh is not None and name_zh.strip() != role.name_zh:
        before["name_zh"], after["name_zh"] = role.name_zh, name_zh.strip()[:100]
    role.name, role.name_zh = after["name"], after.get("name_zh", role.name_zh)
    role.save(update_fields=["name", "name_zh"])
    audit.record(EventType.ROLE_RENAMED, tenant=role.tenant, actor=actor, target=role, before=before, after=after)
    return role


@transaction.atomic
def delete_role(role: Role, *, actor) -> None:
    """Delete a custom role nobody holds."""
    if actor is not None:
        same_tenant(actor.tenant_id, role)
    require(actor, Action.DELETE, "roles")
    if role.builtin:
        raise AccessRefused(ErrorCode.BUILTIN)
    if role.users.exists():
        raise AccessRefused(ErrorCode.ROLE_IN_USE)
    before = {"name": role.name, "matrix": _readable(matrix_of(role))}
    audit.record(EventType.ROLE_DELETED, tenant=role.tenant, actor=actor, target=role, before=before)
    role.delete()
    bump(role.tenant_id)


def normalise_matrix(matrix) -> dict[str, int]:
    """A matrix given as {module key: iterable of actions | mask} as {key: mask}, empty cells dropped."""
    result = {}
    for key, actions in matrix.items():
        mask = actions if isinstance(actions, int) else mask_of(actions)
        if mask:
            result[str(key)] = mask
    return result


@transaction.atomic
def set_role_matrix(role: Role, matrix, *, actor, reason: str = "", justification: str = ""):
    """Replace the role's matrix. Returns the role, or a PendingChange when it adds system-module actions
    or is an exception to a separation-of-duties rule (``justification``).

    Refuses: the actor's own role, the Administrator role (lock-out guard), actions the actor does
    not hold, actions that do not apply to a module.
    """
    if actor is not None:
        same_tenant(actor.tenant_id, role)
        if actor.role_id == role.pk:
            raise AccessRefused(ErrorCode.SELF_ROLE)
    require(actor, Action.CHANGE, "roles")
    if role.builtin and role.key == BuiltinRole.ADMINISTRATOR:
        raise AccessRefused(ErrorCode.BUILTIN, "the Administrator role always holds everything")
    new = normalise_matrix(matrix)
    modules = {m.key: m for m in Module.objects.all()}
    for key, mask in new.items():
        if key not in modules or mask & ~modules[key].actions:
            raise AccessRefused(ErrorCode.INVALID, f"actions that do not apply to {key}")
    old = matrix_of(role)
    for key, mask in new.items():
        gained = mask & ~old.get(key, 0)
        if gained:
            require_scope(actor, gained, key)
    if any(mask & ~new.get(key, 0) for key, mask in old.items()):
        # Taking rights from a role changes everyone holding it: never someone holding more (INS-1).
        require_outranks_all(actor, role.users.filter(is_active=True))
    exceptions = gates.enforce(matrix_gain(role, new), justification=justification)
    if actor is not None and (matrix_gain_escalates(old, new, modules) or exceptions):
        from permissions.services.changes import request_change

        return request_change(
            actor=actor,
            kind=PendingChange.Kind.MATRIX,
            payload={
                "role": role.pk,
                "matrix": new,
                "before": old,
                **gates.exception_payload(exceptions, justification),
            },
            summary=_matrix_summary(role, old, new, modules),
            reason=reason or "",
        )
    return apply_matrix(role, new, actor=actor, reason=reason)


def apply_matrix(role: Role, new: dict[str, int], *, actor, reason: str = "", exempt=()) -> Role:
    """Write a validated matrix and its event (inside the caller's transaction). Refused when it would
    leave the tenant without an active administrator (a custom role may be what makes someone one), or
    make a holder violate a separation-of-duties rule (``exempt``: rule ids a second administrator approved)."""
    gates.enforce(matrix_gain(role, new), exempt=exempt)
    old = matrix_of(role)
    modules = {m.key: m for m in Module.objects.all()}
    loses_console = any(modules[key].is_system and mask & ~new.get(key, 0) for key, mask in old.items())
    with keeps_an_administrator(role.tenant_id, when=loses_console):
        RolePermission.objects.filter(role=role).delete()
        RolePermission.objects.bulk_create(
            RolePermission(tenant_id=role.tenant_id, role=role, module=modules[key], actions=mask)
            for key, mask in new.items()
        )
    audit.record(
        EventType.ROLE_MATRIX_CHANGED,
        tenant=role.tenant,
        actor=actor,
        target=role,
        before=_readable(old),
        after=_readable(new),
        reason=reason,
    )
    bump(role.tenant_id)
    return role


@transaction.atomic
def change_user_role(user, role: Role, *, actor, reason: str = "", justification: str = ""):
    """Give ``user`` another role. Returns the user, or a PendingChange when the role holds system-module
    actions (making someone an Administrator needs a second administrator) or the change is an exception to
    a separation-of-duties rule (``justification``)."""
    if actor is not None:
        same_tenant(actor.tenant_id, user, role)
        if user.pk == actor.pk:
            raise AccessRefused(ErrorCode.SELF_ROLE)
    same_tenant(user.tenant_id, role)
    require(actor, Action.CHANGE, "users")
    require_outranks(actor, user)
    if user.role_id == role.pk:
        return user
    for key, mask in matrix_of(role).items():
        require_scope(actor, mask, key)
    exceptions = gates.enforce(gates.Gain([user], role=role), justification=justification)
    if actor is not None and (role_escalates(role) or exceptions):
        from permissions.services.changes import request_change

        return request_change(
            actor=actor,
            kind=PendingChange.Kind.ROLE_CHANGE,
            payload={"user": user.pk, "role": role.pk, **gates.exception_payload(exceptions, justification)},
            summary=f"{user.email} → {role.display_name}",
            reason=reason,
        )
    return apply_role_change(user, role, actor=actor, reason=reason)


def apply_role_change(user, role: Role, *, actor, reason: str = "", exempt=()):
    """Write the role change and its event (inside the caller's transaction); refused when it would leave
    the tenant without an active administrator, or make the user violate a separation-of-duties rule
    (``exempt``: rule ids a second administrator approved)."""
    gates.enforce(gates.Gain([user], role=role), exempt=exempt)
    before = user.role.key if user.role_id else None
    with keeps_an_administrator(user.tenant_id):
        user.role = role
        user.save(update_fields=["role"])
    audit.record(
        EventType.USER_ROLE_CHANGED,
        tenant=user.tenant,
        actor=actor,
        target=user,
        before={"role": before},
        after={"role": role.key},
        reason=reason,
    )
    bump(user.tenant_id)
    return user
