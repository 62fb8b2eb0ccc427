"""The snapshot of a campaign: which (user, access) pairs are in scope, with evidence and a recommendation.

Everything is read in a handful of queries for the whole tenant (users, roles and matrices, memberships,
live grants, usage records), then computed in memory: opening a campaign costs the same number of
queries whether it holds ten items or a hundred thousand.

Rules (docs/reviews.md): unused = no use of this exact access for 90 days, unless the user or the grant
is younger than that; rare / common = held by fewer than 30% / more than 70% of the user's peers
(same role for grants, same groups for roles). Recommendation: revoke when unused and rare (or the
user is deactivated); keep when used in the last 30 days and common; otherwise none.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Q

from accounts.models import User
from accounts.scoping import active_tenant
from intelligence.evidence import annotate as annotate_with_proposals
from permissions.models import BuiltinRole, Grant, GroupMembership, Module, Role, RolePermission, UsageRecord
from permissions.vocabulary import BITS, Action, actions_of
from reviews.models import ItemKind, Recommendation, ScopeMode

#: Further evidence, added to every candidate of a campaign: callables (candidates, now), registered in the apps'
#: ready() (separation-of-duties flags: ``permissions.sod.flag_candidates``; lessons: ``training.evidence``).
EVIDENCE_HOOKS: list = []

UNUSED_DAYS = 90
RECENT_DAYS = 30
RARE_SHARE = 0.30
COMMON_SHARE = 0.70


@dataclass
class Candidate:
    """One item before it is written: the access, its frozen snapshot and evidence, and the recommendation."""

    kind: str
    user_id: int | None
    access_key: str
    role_id: int | None = None
    grant_id: int | None = None
    risky: bool = False
    target_id: int | None = None  # the group, role, organisation or sharing rule of the new kinds
    route: dict = field(default_factory=dict)  # what routing needs at every stage (module, resource)
    snapshot: dict = field(default_factory=dict)
    evidence: dict = field(default_factory=dict)
    reasons: list = field(default_factory=list)
    recommendation: str = Recommendation.NONE
    flagged: bool = False
    unused: bool = False


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


class _World:
    """The tenant's access, read in bulk (call inside the tenant's scope)."""

    def __init__(self, now: datetime):
        self.now = now
        tenant = active_tenant()
        # The tenant's dormancy policy (dormancy/): idle this many days without a login is dormant; 0 is off.
        self.dormancy_days = getattr(tenant, "dormancy_days", 0) or 0
        self.users = {
            row["id"]: row
            for row in User.objects.values("id", "email", "role_id", "is_active", "last_login", "date_joined")
        }
        self.roles = {role.pk: role for role in Role.objects.all()}
        self.modules = {m["id"]: m for m in Module.objects.values("id", "key", "kind", "sensitive_attributes")}
        self.matrix: dict[int, dict[int, int]] = defaultdict(dict)
        for row in RolePermission.objects.filter(actions__gt=0).values("role_id", "module_id", "actions"):
            self.matrix[row["role_id"]][row["module_id"]] = row["actions"]
        self.groups_of: dict[int, list[int]] = defaultdict(list)
        self.group_roles: dict[int, Counter] = defaultdict(Counter)  # group → role → active members
        self.owners_of: dict[int, list[int]] = defaultdict(list)  # group → owner ids
        for row in GroupMembership.objects.values("user_id", "group_id", "is_owner").order_by("group_id", "user_id"):
            user = self.users.get(row["user_id"])
            if user is None:
                continue
            self.groups_of[row["user_id"]].append(row["group_id"])
            if user["is_active"]:
                self.group_roles[row["group_id"]][user["role_id"]] += 1
            if row["is_owner"]:
                self.owners_of[row["group_id"]].append(row["user_id"])
        self.role_size = Counter(u["role_id"] for u in self.users.values() if u["is_active"])
        self.active_count = sum(self.role_size.values())
        live = Q(revoked_at__isnull=True) & (Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        self.grants = list(
            Grant.objects.filter(live, user__isnull=False)
            .order_by("id")
            .values(
                "id",
                "user_id",
                "module_id",
                "resource_id",
                "resource__title",
                "actions",
                "reason",
                "expires_at",
                "provenance",
                "reference",
                "granted_by__email",
                "created_at",
            )
        )
        group_grants = Grant.objects.filter(live, group__isnull=False).values("group_id", "module_id", "resource_id")
        members: dict[int, list[int]] = defaultdict(list)
        for user_id, groups in self.groups_of.items():
            for group_id in groups:
                members[group_id].append(user_id)
        # (target, role) → how many active users hold the target (directly or through a group).
        holders: dict[tuple, set] = defaultdict(set)
        for row in self.grants:
            holders[(row["module_id"], row["resource_id"])].add(row["user_id"])
        for row in group_grants:
            holders[(row["module_id"], row["resource_id"])].update(members.get(row["group_id"], ()))
        self.holders_by_role: Counter = Counter()
        for target, users in holders.items():
            for user_id in users:
                user = self.users.get(user_id)
                if user and user["is_active"]:
                    self.holders_by_role[(target, user["role_id"])] += 1
        self.holds = {target: users for target, users in holders.items()}
        self.usage: dict[tuple[int, int], list[tuple]] = defaultdict(list)
        for row in UsageRecord.objects.values("user_id", "module_id", "resource_id", "action", "last_used_at"):
            bit = BITS.get(row["action"], 0)
            self.usage[(row["user_id"], row["module_id"])].append((row["resource_id"], bit, row["last_used_at"]))

    def last_use(self, user_id: int, module_id: int, mask: int, resource_id: int | None = None) -> datetime | None:
        """The last use of ``mask`` on the module (any of its resources) or on one resource."""
        best = None
        for used_resource, bit, when in self.usage.get((user_id, module_id), ()):
            if not bit & mask or (resource_id is not None and used_resource != resource_id):
                continue
            if best is None or when > best:
                best = when
        return best

    def is_risky_mask(self, module_id: int, mask: int) -> bool:
        module = self.modules.get(module_id)
        return bool(module and (module["kind"] == "system" or mask & Action.VIEW_SENSITIVE.bit))


def _judge(world: _World, c: Candidate, user: dict, last_used, peer_share, peer_basis, born: datetime) -> None:
    """Fill the evidence flags, the recommendation and its reasons."""
    now = world.now
    young_user = user["date_joined"] and user["date_joined"] > now - timedelta(days=UNUSED_DAYS)
    young_access = born > now - timedelta(days=UNUSED_DAYS)
    idle_since = last_used or born
    idle_days = (now - idle_since).days
    unused = not young_user and not young_access and idle_days >= UNUSED_DAYS
    recent = last_used is not None and last_used > now - timedelta(days=RECENT_DAYS)
    rare = peer_share is not None and peer_share < RARE_SHARE
    common = peer_share is not None and peer_share > COMMON_SHARE
    percent = None if peer_share is None else round(peer_share * 100)
    login_idle = (now - (user["last_login"] or user["date_joined"] or now)).days
    dormant = bool(world.dormancy_days) and user["is_active"] and login_idle >= world.dormancy_days
    c.evidence.update(
        {
            "last_login": _iso(user["last_login"]),
            "dormant": dormant,
            "last_used": _iso(last_used),
            "idle_days": idle_days,
            "unused": unused,
            "new_user": bool(young_user),
            "peer_percent": percent,
            "peer_basis": peer_basis,
            "rare": rare,  # unlike the peers (the workspace's "unlike peers" filter)
            "deactivated": not user["is_active"],
        }
    )
    reasons = []
    if not user["is_active"]:
        reasons.append(["deactivated", {}])
    if dormant:
        reasons.append(["dormant", {"days": login_idle}])
    if young_user:
        reasons.append(["new_user", {"days": UNUSED_DAYS}])
    if unused:
        reasons.append(["never_used" if last_used is None else "unused", {"days": idle_days}])
    elif recent:
        reasons.append(["used_recently", {"days": (now - last_used).days}])
    if rare:
        reasons.append(["rare", {"percent": percent, "basis": peer_basis}])
    elif common:
        reasons.append(["common", {"percent": percent, "basis": peer_basis}])
    elif peer_share is None:
        reasons.append(["no_peers", {}])
    else:
        reasons.append(["some_peers", {"percent": percent, "basis": peer_basis}])
    if not user["is_active"] or (unused and rare):
        c.recommendation = Recommendation.REVOKE
    elif recent and common:
        c.recommendation = Recommendation.KEEP
    c.reasons = reasons
    c.unused = unused
    c.flagged = unused or rare or not user["is_active"]


def _share(holding: int, peers: int) -> float | None:
    return None if peers <= 0 else holding / peers


def _role_candidates(world: _World, policy, users: dict) -> list[Candidate]:
    out = []
    modules_filter = set(policy.scope_modules or []) if policy.scope_mode == ScopeMode.CHOSEN else set()
    for user_id, user in users.items():
        role = world.roles.get(user["role_id"])
        if role is None or not user["is_active"] or (role.builtin and role.key == BuiltinRole.BASIC):
            continue  # Basic is the floor every user holds: there is nothing to take away
        cells = world.matrix.get(role.pk, {})
        risky = any(world.is_risky_mask(module_id, mask) for module_id, mask in cells.items())
        if policy.scope_mode == ScopeMode.RISKY and not risky:
            continue
        if modules_filter and not modules_filter & set(cells):
            continue
        last_used = None
        for module_id, mask in cells.items():
            when = world.last_use(user_id, module_id, mask)
            if when and (last_used is None or when > last_used):
                last_used = when
        groups = world.groups_of.get(user_id, [])
        if groups:
            same = sum(world.group_roles[g][role.pk] for g in groups) - len(groups)
            peers = sum(sum(world.group_roles[g].values()) for g in groups) - len(groups)
            basis = "group"
        else:
            same, peers, basis = world.role_size[role.pk] - 1, world.active_count - 1, "tenant"
        c = Candidate(kind=ItemKind.ROLE, user_id=user_id, access_key=f"role:{user_id}", role_id=role.pk, risky=risky)
        c.snapshot = {
            "role": role.key,
            "role_name": role.name,
            "builtin": role.builtin,
            "modules": {world.modules[m]["key"]: [a.value for a in actions_of(k)] for m, k in cells.items()},
        }
        born = user["date_joined"]
        _judge(world, c, user, last_used, _share(same, peers), basis, born)
        out.append(c)
    return out


def _grant_candidates(world: _World, policy, users: dict) -> list[Candidate]:
    out = []
    modules_filter = set(policy.scope_modules or []) if policy.scope_mode == ScopeMode.CHOSEN else set()
    for row in world.grants:
        user = users.get(row["user_id"])
        if user is None:
            continue
        risky = world.is_risky_mask(row["module_id"], row["actions"])
        if policy.scope_mode == ScopeMode.RISKY and not risky:
            continue
        if modules_filter and row["module_id"] not in modules_filter:
            continue
        target = (row["module_id"], row["resource_id"])
        role_id = user["role_id"]
        holding = world.holders_by_role[(target, role_id)] - (1 if user["is_active"] else 0)
        peers = world.role_size[role_id] - (1 if user["is_active"] else 0)
        last_used = world.last_use(row["user_id"], row["module_id"], row["actions"], row["resource_id"])
        c = Candidate(
            kind=ItemKind.GRANT,
            user_id=row["user_id"],
            access_key=f"grant:{row['id']}",
            grant_id=row["id"],
            risky=risky,
            route={"module": row["module_id"], "resource": row["resource_id"]},
        )
        c.snapshot = {
            "grant": row["id"],
            "module": world.modules[row["module_id"]]["key"],
            "resource": row["resource__title"],
            "actions": [a.value for a in actions_of(row["actions"])],
            "expires_at": _iso(row["expires_at"]),
            "granted_by": row["granted_by__email"],
            "reason": row["reason"],
            "provenance": row["provenance"],
            "reference": row["reference"],
            "granted_at": _iso(row["created_at"]),
        }
        c.evidence["grant_age_days"] = (world.now - row["created_at"]).days
        _judge(world, c, user, last_used, _share(max(holding, 0), peers), "role", row["created_at"])
        out.append(c)
    return out


def _users_in_scope(world: _World, policy) -> dict:
    if policy.scope_mode != ScopeMode.CHOSEN or not (policy.scope_roles or policy.scope_groups):
        return world.users
    roles, groups = set(policy.scope_roles or []), set(policy.scope_groups or [])
    return {
        user_id: user
        for user_id, user in world.users.items()
        if user["role_id"] in roles or groups & set(world.groups_of.get(user_id, ()))
    }


def collect(policy, now: datetime) -> tuple[list[Candidate], _World]:
    """Every (user, access) in the policy's scope at ``now``, with frozen evidence (inside the tenant scope)."""
    world = _World(now)
    users = _users_in_scope(world, policy)
    candidates: list[Candidate] = []
    if policy.include_roles:
        candidates += _role_candidates(world, policy, users)
    if policy.include_grants:
        candidates += _grant_candidates(world, policy, users)
    from reviews.kinds import collect_more  # the other kinds of access (docs/reviews.md)

    candidates += collect_more(world, policy, users, _new_candidate)
    annotate_with_proposals(candidates)  # access intelligence: confidence and reason of a stored proposal
    for hook in EVIDENCE_HOOKS:
        hook(candidates, now)
    return candidates, world


def _new_candidate(kind, user_id, access_key, **values) -> Candidate:
    return Candidate(kind=kind, user_id=user_id, access_key=access_key, **values)
