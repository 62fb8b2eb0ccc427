"""From a tenant's rows to the users × rights matrix the analysis reads (call inside the tenant's scope).

A right is one action on one whole module ("reports: export"). A user holds it through their role's
matrix, a live module-level grant of their own, or one of a group they belong to (resource grants are
per object and stay out of the matrix). Usage gives, per cell, the days since the last use of that
action anywhere in the module (``inf`` when never). Six queries, whatever the tenant's size.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from django.db.models import Max, Q

from accounts.models import Organisation, User
from permissions.models import Grant, GroupMembership, Module, Role, RolePermission, UsageRecord
from permissions.vocabulary import BITS, actions_of


@dataclass(frozen=True)
class Right:
    """One column: an action on a module."""

    module_id: int
    module_key: str
    action: str


@dataclass
class TenantMatrix:
    """The matrix and what its rows and columns are."""

    x: np.ndarray
    idle_days: np.ndarray
    from_role: np.ndarray  # cells the user's role gives
    user_ids: list[int]
    emails: list[str]
    role_ids: np.ndarray
    org_ids: np.ndarray  # -1: no organisation
    rights: list[Right]
    modules: dict[int, Module]
    roles: dict[int, Role]
    organisations: dict[int, str]
    direct: dict[tuple[int, int], list[int]] = field(default_factory=dict)  # (row, column) → direct grant ids

    def column(self, module_id: int, action: str) -> int | None:
        """The column of a right, or None."""
        return self._columns().get((module_id, action))

    def _columns(self) -> dict:
        if not hasattr(self, "_column_map"):
            self._column_map = {(r.module_id, r.action): j for j, r in enumerate(self.rights)}
        return self._column_map

    def digest(self) -> str:
        """A SHA-256 of the input (who holds what, and the usage day by day): equal digests, equal answers."""
        h = hashlib.sha256()
        h.update(np.asarray(self.user_ids, dtype=np.int64).tobytes())
        h.update(repr([(r.module_id, r.action) for r in self.rights]).encode())
        h.update(np.packbits(self.x, axis=1).tobytes())
        h.update(np.packbits(self.from_role, axis=1).tobytes())
        h.update(np.minimum(self.idle_days, 10_000).astype(np.int32).tobytes())
        h.update(self.role_ids.tobytes() + self.org_ids.tobytes())
        return h.hexdigest()


def _rights(modules: list[Module]) -> list[Right]:
    return [Right(m.pk, m.key, str(a.value)) for m in modules for a in actions_of(m.actions)]


def _grant_bits(users: dict[int, int], now: datetime) -> tuple[dict, dict]:
    """Per row, module → mask from live module-level grants; and (row, module, bit) → direct grant ids."""
    live = Q(revoked_at__isnull=True, resource__isnull=True) & (Q(expires_at__isnull=True) | Q(expires_at__gt=now))
    members: dict[int, list[int]] = defaultdict(list)
    for m in GroupMembership.objects.values("user_id", "group_id"):
        if m["user_id"] in users:
            members[m["group_id"]].append(users[m["user_id"]])
    bits: dict[int, dict[int, int]] = defaultdict(dict)
    direct: dict[tuple, list[int]] = defaultdict(list)
    for g in Grant.objects.filter(live).values("id", "user_id", "group_id", "module_id", "actions"):
        rows = [users[g["user_id"]]] if g["user_id"] in users else members.get(g["group_id"], [])
        for row in rows:
            bits[row][g["module_id"]] = bits[row].get(g["module_id"], 0) | g["actions"]
            if g["user_id"]:
                for action in actions_of(g["actions"]):
                    direct[(row, g["module_id"], BITS[action])].append(g["id"])
    return bits, direct


def build(now: datetime) -> TenantMatrix:
    """The active users' matrix at ``now`` (inside a tenant scope)."""
    people = list(
        User.objects.filter(is_active=True).order_by("id").values("id", "email", "role_id", "organisation_id")
    )
    rows = {p["id"]: i for i, p in enumerate(people)}
    modules = list(Module.objects.order_by("kind", "key"))
    rights = _rights(modules)
    column = {(r.module_id, BITS[r.action]): j for j, r in enumerate(rights)}
    role_cells: dict[int, dict[int, int]] = defaultdict(dict)
    for cell in RolePermission.objects.filter(actions__gt=0).values("role_id", "module_id", "actions"):
        role_cells[cell["role_id"]][cell["module_id"]] = cell["actions"]
    from_role = np.zeros((len(people), len(rights)), dtype=bool)
    x = np.zeros_like(from_role)
    for i, p in enumerate(people):
        for module_id, mask in role_cells.get(p["role_id"], {}).items():
            for action in actions_of(mask):
                if (module_id, BITS[action]) in column:
                    from_role[i, column[(module_id, BITS[action])]] = True
    x |= from_role
    bits, direct_raw = _grant_bits(rows, now)
    for i, masks in bits.items():
        for module_id, mask in masks.items():
            for action in actions_of(mask):
                if (module_id, BITS[action]) in column:
                    x[i, column[(module_id, BITS[action])]] = True
    idle = np.full(x.shape, np.inf)
    usage = UsageRecord.objects.values("user_id", "module_id", "action").annotate(last=Max("last_used_at"))
    for u in usage:
        j = column.get((u["module_id"], BITS.get(u["action"], 0)))
        if u["user_id"] in rows and j is not None:
            idle[rows[u["user_id"]], j] = max((now - u["last"]).total_seconds() / 86400, 0.0)
    direct = {(row, column[(m, bit)]): ids for (row, m, bit), ids in direct_raw.items() if (m, bit) in column}
    return TenantMatrix(
        x=x,
        idle_days=idle,
        from_role=from_role,
        user_ids=[p["id"] for p in people],
        emails=[p["email"] for p in people],
        role_ids=np.array([p["role_id"] or 0 for p in people], dtype=np.int64),
        org_ids=np.array([p["organisation_id"] or -1 for p in people], dtype=np.int64),
        rights=rights,
        modules={m.pk: m for m in modules},
        roles={r.pk: r for r in Role.objects.all()},
        organisations=dict(Organisation.objects.values_list("id", "name")),
        direct=direct,
    )
