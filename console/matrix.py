"""A user's effective access, cell by cell, with the reason of every cell ("why can this person see this?").

The same rows and rules as ``permissions.explaining.explain`` (role cell, live module grants direct or via a
group), read once for the whole matrix instead of once per cell; tests hold each cell to ``engine.explain``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Q
from django.utils import timezone

from permissions.explaining import Path, PathKind, live, path_for_grant
from permissions.models import Grant, GroupMembership, Module, RolePermission
from permissions.vocabulary import Action


@dataclass
class Cell:
    """One (module, action): applicable or not, and every path that gives it."""

    action: Action
    applicable: bool
    paths: list[Path] = field(default_factory=list)

    @property
    def allowed(self) -> bool:
        return bool(self.paths)


@dataclass
class Row:
    module: Module
    cells: list[Cell]


def _subject_grants(user, now):
    """Live grants of the user, direct or through one of their groups, and the group names."""
    memberships = GroupMembership.objects.filter(user=user).select_related("group")
    group_names = {m.group_id: m.group.name for m in memberships}
    grants = (
        Grant.objects.filter(live(now))
        .filter(Q(user=user) | Q(group_id__in=list(group_names)))
        .select_related("granted_by", "resource", "module")
        .order_by("id")
    )
    return list(grants), group_names


def effective_matrix(user) -> list[Row]:
    """Every module × action of the tenant, with the paths that give ``user`` each cell now."""
    modules = list(Module.objects.order_by("kind", "key"))
    if not user.is_active:
        return [Row(m, [Cell(a, bool(m.actions & a.bit)) for a in Action]) for m in modules]
    now = timezone.now()
    role_cells = {c.module_id: c.actions for c in RolePermission.objects.filter(role_id=user.role_id)}
    grants, group_names = _subject_grants(user, now)
    module_grants = [g for g in grants if g.resource_id is None]
    rows = []
    for module in modules:
        cells = []
        for action in Action:
            cell = Cell(action, bool(module.actions & action.bit))
            if role_cells.get(module.pk, 0) & action.bit:
                cell.paths.append(Path(kind=PathKind.ROLE, module=module, action=action, role=user.role))
            for grant in module_grants:
                if grant.module_id == module.pk and grant.actions & action.bit:
                    cell.paths.append(path_for_grant(grant, module, action, group_names))
            cells.append(cell)
        rows.append(Row(module, cells))
    return rows


def resource_access(user) -> list[Path]:
    """The user's paths to single resources (direct or group grants), one per (grant, action)."""
    if not user.is_active:
        return []
    grants, group_names = _subject_grants(user, timezone.now())
    paths = []
    for grant in grants:
        if grant.resource_id is None:
            continue
        for action in grant.action_list:
            paths.append(path_for_grant(grant, grant.module, action, group_names))
    return paths
