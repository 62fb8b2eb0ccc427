"""The hierarchy of rights and the last administrator: one place, called by every service that acts on
another user (INS-1, INS-2).

- ``require_outranks(actor, subject)``: nobody changes, deactivates, reactivates, edits, resets the MFA
  of or ends the sessions of a user who holds a right the actor does not hold. Rights are compared as
  the engine compiles them (role matrix ∪ direct grants ∪ group grants, module-level and per resource),
  never by role name. Taking rights from a role or a group needs to outrank each holder or member.
  *Giving* (a grant, a membership) is bounded by the giver's own rights (AZ-6, ``require_scope``), not by rank.
- ``keeps_an_administrator(tenant_id)``: wraps a change that could take console rights away; the change
  is refused when it would leave the tenant with no active administrator. The tenant row is locked
  first, so two concurrent demotions are serialized and the second sees the first.

An *administrator* is an active user who holds every action of every system module, however they got
them (the built-in Administrator role, a custom role, grants or groups).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from permissions.compiled import load
from permissions.models import (
    Grant,
    GroupMembership,
    Resource,
    ResourceGroupPermission,
    ResourceUserPermission,
    RolePermission,
)
from permissions.services.errors import AccessRefused, ErrorCode
from permissions.versioning import current_version
from permissions.vocabulary import (
    SYSTEM_ACTIONS,
    Action,
    BusinessModule,
    ModuleKind,
    SystemModule,
    actions_of,
    mask_of,
)

#: Every system module's full mask: what an administrator holds.
ADMINISTRATOR_MASKS: dict[str, int] = {str(key): mask_of(actions) for key, actions in SYSTEM_ACTIONS.items()}


@dataclass(frozen=True)
class Right:
    """One action on one module (or one resource of it): what a refusal says the actor lacks."""

    module: str
    action: Action
    resource: str = ""

    @property
    def label(self) -> str:
        known = {**dict(SystemModule.choices), **dict(BusinessModule.choices)}
        name = str(known.get(self.module, self.module))
        where = f"{name} / {self.resource}" if self.resource else name
        return _("%(where)s: %(action)s") % {"where": where, "action": self.action.label}

    def __str__(self) -> str:
        return f"{self.module}:{self.action.value}" + (f" ({self.resource})" if self.resource else "")


@dataclass
class Rights:
    """A user's effective rights: module id → mask, and resource id → mask (object-level rows only)."""

    modules: dict[int, int]
    resources: dict[int, int]
    keys: dict[str, int]

    def on_module_key(self, key: str) -> int:
        module_id = self.keys.get(key)
        return 0 if module_id is None else self.modules.get(module_id, 0)


def _live(now):
    return Q(expires_at__isnull=True) | Q(expires_at__gt=now)


def rights_of(user) -> Rights:
    """What ``user`` holds now, read fresh from the database (active or not: what they would hold). A
    platform operator (no tenant) holds no right of any tenant."""
    if user.tenant_id is None:
        return Rights(modules={}, resources={}, keys={})
    now = timezone.now()
    compiled = load(user, current_version(user.tenant_id), now)
    resources: dict[int, int] = {}
    rows = ResourceUserPermission._base_manager.filter(tenant_id=user.tenant_id, user_id=user.pk).filter(_live(now))
    for resource_id, bit in rows.values_list("content_object_id", "action"):
        resources[resource_id] = resources.get(resource_id, 0) | bit
    if compiled.groups:
        rows = ResourceGroupPermission._base_manager.filter(
            tenant_id=user.tenant_id, group_id__in=list(compiled.groups)
        ).filter(_live(now))
        for resource_id, bit in rows.values_list("content_object_id", "action"):
            resources[resource_id] = resources.get(resource_id, 0) | bit
    return Rights(modules=dict(compiled.modules), resources=resources, keys=dict(compiled.keys))


def lacking(actor_rights: Rights, subject_rights: Rights) -> list[Right]:
    """The rights ``subject_rights`` holds that ``actor_rights`` does not (empty: the actor outranks)."""
    missing_modules = {
        module_id: bits & ~actor_rights.modules.get(module_id, 0)
        for module_id, bits in subject_rights.modules.items()
        if bits & ~actor_rights.modules.get(module_id, 0)
    }
    missing_resources: dict[int, int] = {}
    if subject_rights.resources:
        module_of = dict(
            Resource._base_manager.filter(pk__in=list(subject_rights.resources)).values_list("pk", "module_id")
        )
        for resource_id, bits in subject_rights.resources.items():
            held = actor_rights.resources.get(resource_id, 0) | actor_rights.modules.get(module_of.get(resource_id), 0)
            if bits & ~held:
                missing_resources[resource_id] = bits & ~held
    if not missing_modules and not missing_resources:
        return []
    names = {pk: name for name, pk in subject_rights.keys.items()}
    titles = dict(Resource._base_manager.filter(pk__in=list(missing_resources)).values_list("pk", "title"))
    result = [
        Right(names.get(pk, str(pk)), a) for pk, bits in sorted(missing_modules.items()) for a in actions_of(bits)
    ]
    for resource_id, bits in sorted(missing_resources.items()):
        module = names.get(module_of.get(resource_id), "")
        result += [Right(module, a, titles.get(resource_id, str(resource_id))) for a in actions_of(bits)]
    return result


def require_outranks(actor, subject) -> None:
    """Refuse (``OUTRANKED``, naming what the actor lacks) when ``subject`` holds a right ``actor`` does not.

    ``actor=None`` is the system itself (review application, jobs) and is not limited. An inactive actor
    holds nothing.
    """
    if actor is None or subject is None or actor.pk == subject.pk:
        return
    if not getattr(actor, "is_active", False):
        raise AccessRefused(ErrorCode.NOT_ALLOWED)
    missing = lacking(rights_of(actor), rights_of(subject))
    if missing:
        raise AccessRefused(ErrorCode.OUTRANKED, missing=missing)


def require_outranks_all(actor, subjects) -> None:
    """``require_outranks`` for several users at once (the holders of a role, the members of a group)
    whose rights a change would take away; the actor's rights are read once."""
    if actor is None:
        return
    if not getattr(actor, "is_active", False):
        raise AccessRefused(ErrorCode.NOT_ALLOWED)
    mine = None
    for subject in subjects:
        if subject.pk == actor.pk:
            continue
        mine = mine or rights_of(actor)
        missing = lacking(mine, rights_of(subject))
        if missing:
            raise AccessRefused(ErrorCode.OUTRANKED, missing=missing)


def outranks(actor, subject) -> bool:
    """Whether ``actor`` may act on ``subject`` under the hierarchy (for buttons; services still check)."""
    try:
        require_outranks(actor, subject)
    except AccessRefused:
        return False
    return True


def is_administrator_rights(rights) -> bool:
    """Rights (a ``Rights`` or a compiled set) that hold every action of every system module."""
    return all(
        (rights.modules.get(rights.keys.get(key), 0) & mask) == mask for key, mask in ADMINISTRATOR_MASKS.items()
    )


def is_administrator(user) -> bool:
    """An active user holding every system-module action, however obtained."""
    if user is None or not getattr(user, "is_active", False) or not getattr(user, "tenant_id", None):
        return False
    return is_administrator_rights(load(user, current_version(user.tenant_id), timezone.now()))


def _administrator_role_ids(tenant_id) -> set[int]:
    """Roles whose matrix alone holds every system-module action."""
    held: dict[int, dict[str, int]] = {}
    cells = RolePermission._base_manager.filter(tenant_id=tenant_id, module__kind=ModuleKind.SYSTEM)
    for role_id, key, bits in cells.values_list("role_id", "module__key", "actions"):
        held.setdefault(role_id, {})[key] = bits
    return {
        role_id
        for role_id, matrix in held.items()
        if all((matrix.get(key, 0) & mask) == mask for key, mask in ADMINISTRATOR_MASKS.items())
    }


def has_active_administrator(tenant_id) -> bool:
    """Whether the tenant has at least one active administrator (read now, from the database)."""
    users = get_user_model()._base_manager.filter(tenant_id=tenant_id, is_active=True)
    if users.filter(role_id__in=_administrator_role_ids(tenant_id)).exists():
        return True
    # Console rights from grants: only users with a live system-module grant (directly or through a
    # group) can complete a partial role into an administrator's rights.
    now = timezone.now()
    live = Grant._base_manager.filter(
        tenant_id=tenant_id, revoked_at__isnull=True, resource__isnull=True, module__kind=ModuleKind.SYSTEM
    ).filter(_live(now))
    groups = live.filter(group__isnull=False).values("group_id")
    members = GroupMembership._base_manager.filter(tenant_id=tenant_id, group_id__in=groups).values("user_id")
    candidates = users.filter(Q(pk__in=live.filter(user__isnull=False).values("user_id")) | Q(pk__in=members))
    version = current_version(tenant_id)
    return any(is_administrator_rights(load(user, version, now)) for user in candidates.select_related(None))


def lock_tenant(tenant_id) -> None:
    """Serialize the changes that could remove a tenant's last administrator (a row lock on the tenant)."""
    from accounts.models import Tenant

    Tenant._base_manager.select_for_update().filter(pk=tenant_id).values_list("pk", flat=True).first()


@contextmanager
def keeps_an_administrator(tenant_id, *, when: bool = True) -> Iterator[None]:
    """Run a change (inside the caller's transaction) and refuse it if it leaves no active administrator.

    ``when=False``: the caller knows the change takes no console right away (nothing is checked). A
    tenant that had no administrator before (a broken import) is not made worse and is not blocked."""
    if not when:
        yield
        return
    lock_tenant(tenant_id)
    had = has_active_administrator(tenant_id)
    yield
    if had and not has_active_administrator(tenant_id):
        raise AccessRefused(ErrorCode.LAST_ADMINISTRATOR)


__all__ = [
    "Right",
    "Rights",
    "has_active_administrator",
    "is_administrator",
    "keeps_an_administrator",
    "lacking",
    "outranks",
    "require_outranks",
    "require_outranks_all",
    "rights_of",
]
