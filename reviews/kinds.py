"""Items beyond role memberships and direct grants: group memberships, groups' grants, roles' matrices
(one item per role × module), organisation memberships and sharing rules.

Read in a fixed number of queries for the whole tenant (``Extra``, attached to the evidence world as
``world.extra``), computed in memory. Evidence stays simple and frozen like the other kinds': who holds
the access, when it was last used (by anyone it reaches, for shared access), how old it is.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from django.db.models import Q

from accounts.models import Organisation, User
from permissions.models import BuiltinRole, Grant, Group, GroupMembership, Module, Resource, SharingRule
from permissions.vocabulary import Action, actions_of
from reviews.models import ItemKind, Recommendation, ScopeMode
from reviews.sod import RULE_FIELDS

UNUSED_DAYS = 90
RECENT_DAYS = 30


def _iso(value):
    return value.isoformat() if value else None


class Extra:
    """What the new kinds need beyond the evidence world: memberships with ids, groups, groups' grants,
    organisations and who manages them, sharing rules, module and resource owners."""

    def __init__(self, world):
        now = world.now
        self.organisation_of = dict(
            User.objects.filter(organisation__isnull=False).values_list("id", "organisation_id")
        )
        self.orgs = {
            o["id"]: o for o in Organisation.objects.values("id", "name", "status", "parent_id", "resource_id")
        }
        self.active_orgs = {pk for pk, o in self.orgs.items() if o["status"] == Organisation.Status.ACTIVE}
        self.groups = dict(Group.objects.values_list("pk", "name"))
        self.memberships = list(
            GroupMembership.objects.values("id", "group_id", "user_id", "is_owner", "added_at").order_by("id")
        )
        live = Q(revoked_at__isnull=True) & (Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        self.group_grants = list(
            Grant.objects.filter(live, group__isnull=False)
            .order_by("id")
            .values(
                "id",
                "group_id",
                "module_id",
                "resource_id",
                "resource__title",
                "actions",
                "reason",
                "expires_at",
                "granted_by__email",
                "created_at",
            )
        )
        rules = SharingRule.objects.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        self.rules = {
            r["id"]: r
            for r in rules.values(*RULE_FIELDS, "name", "module_id", "actions", "expires_at", "reason", "created_at")
        }
        self.module_owners: dict[int, list[int]] = defaultdict(list)
        for module_id, user_id in Module.objects.filter(owners__isnull=False).values_list("id", "owners"):
            self.module_owners[module_id].append(user_id)
        self.resource_owner = dict(Resource.objects.filter(owner__isnull=False).values_list("pk", "owner_id"))
        self.org_admins = self._org_admins(world, live)

    def _org_admins(self, world, live) -> dict[int, list[int]]:
        """Organisation → who manages it ("groups: change" granted on its row, to them or a group of theirs)."""
        by_resource = {o["resource_id"]: pk for pk, o in self.orgs.items() if o["resource_id"]}
        admins: dict[int, set] = defaultdict(set)
        members: dict[int, list[int]] = defaultdict(list)
        for user_id, groups in world.groups_of.items():
            for group_id in groups:
                members[group_id].append(user_id)
        rows = Grant.objects.filter(live, resource_id__in=list(by_resource)).values(
            "resource_id", "user_id", "group_id", "actions"
        )
        for row in rows:
            if not row["actions"] & Action.CHANGE.bit:
                continue
            holders = [row["user_id"]] if row["user_id"] else members.get(row["group_id"], [])
            admins[by_resource[row["resource_id"]]].update(holders)
        return {org: sorted(pks) for org, pks in admins.items()}

    def admins_of(self, org_id: int | None) -> list[int]:
        """The organisation's administrators, else those of the nearest parent that has some."""
        seen = set()
        while org_id is not None and org_id not in seen:
            seen.add(org_id)
            if self.org_admins.get(org_id):
                return self.org_admins[org_id]
            org_id = (self.orgs.get(org_id) or {}).get("parent_id")
        return []


def _presence(world, c, user: dict, born) -> None:
    """Evidence of an access that is one person's but not used as such (a membership of an organisation)."""
    now = world.now
    login = user["last_login"]
    idle = (now - (login or born)).days if (login or born) else 0
    c.evidence.update(
        {"last_login": _iso(login), "idle_days": idle, "deactivated": not user["is_active"], "last_used": None}
    )
    reasons = []
    if not user["is_active"]:
        reasons.append(["deactivated", {}])
        c.recommendation = Recommendation.REVOKE
    elif idle >= UNUSED_DAYS:
        reasons.append(["no_login", {"days": idle}])
    c.flagged = not user["is_active"] or idle >= UNUSED_DAYS
    c.reasons = reasons


def _shared_use(world, c, users, module_id: int, mask: int, resource_id, born) -> None:
    """Evidence of an access many people hold (a group's grant, a role's cell): reach and the last use by any."""
    now = world.now
    last = None
    for user_id in users:
        when = world.last_use(user_id, module_id, mask, resource_id)
        if when and (last is None or when > last):
            last = when
    idle = (now - (last or born)).days
    unused = idle >= UNUSED_DAYS and born <= now - timedelta(days=UNUSED_DAYS)
    c.evidence.update({"holders": len(users), "last_used": _iso(last), "idle_days": idle, "unused": unused})
    reasons = [["holders", {"count": len(users)}]]
    if unused:
        reasons.append(["never_used" if last is None else "unused", {"days": idle}])
        c.recommendation = Recommendation.REVOKE if users else Recommendation.NONE
    elif last is not None and last > now - timedelta(days=RECENT_DAYS):
        reasons.append(["used_recently", {"days": (now - last).days}])
    if not users:
        reasons.append(["no_holders", {}])
        c.recommendation = Recommendation.REVOKE
    c.reasons, c.unused, c.flagged = reasons, unused, unused or not users


def _modules_filter(policy) -> set[int]:
    return set(policy.scope_modules or []) if policy.scope_mode == ScopeMode.CHOSEN else set()


def _groups_filter(policy) -> set[int]:
    return set(policy.scope_groups or []) if policy.scope_mode == ScopeMode.CHOSEN else set()


def membership_candidates(world, policy, users: dict, make) -> list:
    """One item per (user, group) of the users in scope."""
    extra, out = world.extra, []
    risky_groups = {g["group_id"] for g in extra.group_grants if world.is_risky_mask(g["module_id"], g["actions"])}
    chosen = _groups_filter(policy)
    for row in extra.memberships:
        user = users.get(row["user_id"])
        if user is None or (chosen and row["group_id"] not in chosen):
            continue
        risky = row["group_id"] in risky_groups
        if policy.scope_mode == ScopeMode.RISKY and not risky:
            continue
        c = make(ItemKind.MEMBERSHIP, row["user_id"], f"membership:{row['id']}", target_id=row["group_id"], risky=risky)
        c.snapshot = {
            "group": row["group_id"],
            "group_name": extra.groups.get(row["group_id"], ""),
            "owner": row["is_owner"],
            "added_at": _iso(row["added_at"]),
        }
        _presence(world, c, user, row["added_at"])
        out.append(c)
    return out


def group_grant_candidates(world, policy, make) -> list:
    """One item per live grant held by a group (everyone in the group holds it)."""
    extra, out = world.extra, []
    chosen, modules = _groups_filter(policy), _modules_filter(policy)
    members: dict[int, list[int]] = defaultdict(list)
    for row in extra.memberships:
        if world.users.get(row["user_id"], {}).get("is_active"):
            members[row["group_id"]].append(row["user_id"])
    for row in extra.group_grants:
        risky = world.is_risky_mask(row["module_id"], row["actions"])
        if (chosen and row["group_id"] not in chosen) or (modules and row["module_id"] not in modules):
            continue
        if policy.scope_mode == ScopeMode.RISKY and not risky:
            continue
        c = make(ItemKind.GROUP_GRANT, None, f"group_grant:{row['id']}", target_id=row["group_id"], risky=risky)
        c.grant_id = row["id"]
        c.route = {"module": row["module_id"], "resource": row["resource_id"]}
        c.snapshot = {
            "grant": row["id"],
            "group": row["group_id"],
            "group_name": extra.groups.get(row["group_id"], ""),
            "module": world.modules[row["module_id"]]["key"],
            "resource": row["resource__title"],
            "actions": [a.value for a in actions_of(row["actions"])],
            "expires_at": _iso(row["expires_at"]),
            "granted_by": row["granted_by__email"],
            "reason": row["reason"],
            "granted_at": _iso(row["created_at"]),
        }
        _shared_use(
            world,
            c,
            members.get(row["group_id"], []),
            row["module_id"],
            row["actions"],
            row["resource_id"],
            row["created_at"],
        )
        out.append(c)
    return out


def matrix_candidates(world, policy, make) -> list:
    """One item per (role, module) cell of every role but Administrator (which always holds everything)."""
    out = []
    roles = set(policy.scope_roles or []) if policy.scope_mode == ScopeMode.CHOSEN else set()
    modules = _modules_filter(policy)
    holders: dict[int, list[int]] = defaultdict(list)
    for user_id, user in world.users.items():
        if user["is_active"]:
            holders[user["role_id"]].append(user_id)
    for role_id, cells in sorted(world.matrix.items()):
        role = world.roles.get(role_id)
        if role is None or (role.builtin and role.key == BuiltinRole.ADMINISTRATOR) or (roles and role_id not in roles):
            continue
        for module_id, mask in sorted(cells.items()):
            risky = world.is_risky_mask(module_id, mask)
            if (modules and module_id not in modules) or (policy.scope_mode == ScopeMode.RISKY and not risky):
                continue
            c = make(ItemKind.MATRIX, None, f"matrix:{role_id}:{module_id}", target_id=role_id, risky=risky)
            c.role_id = role_id
            c.route = {"module": module_id, "resource": None}
            c.snapshot = {
                "role": role.key,
                "role_name": str(role.display_name),
                "module": world.modules[module_id]["key"],
                "module_id": module_id,
                "mask": mask,
                "actions": [a.value for a in actions_of(mask)],
            }
            _shared_use(
                world, c, holders.get(role_id, []), module_id, mask, None, world.now - timedelta(days=UNUSED_DAYS)
            )
            out.append(c)
    return out


def organisation_candidates(world, policy, users: dict, make) -> list:
    """One item per user in scope who belongs to an organisation."""
    extra, out = world.extra, []
    for user_id, org_id in sorted(extra.organisation_of.items()):
        user = users.get(user_id)
        if user is None or policy.scope_mode == ScopeMode.RISKY:
            continue  # a membership gives business records only: never "risky"
        org = extra.orgs.get(org_id, {})
        c = make(ItemKind.ORGANISATION, user_id, f"organisation:{user_id}", target_id=org_id)
        c.snapshot = {"organisation": org_id, "organisation_name": org.get("name", ""), "status": org.get("status")}
        _presence(world, c, user, user["date_joined"])
        out.append(c)
    return out


def sharing_candidates(world, policy, make) -> list:
    """One item per live sharing rule."""
    extra, out = world.extra, []
    modules = _modules_filter(policy)
    orgs = {pk: o["name"] for pk, o in extra.orgs.items()}
    for rule_id, rule in sorted(extra.rules.items()):
        risky = world.is_risky_mask(rule["module_id"], rule["actions"])
        if (modules and rule["module_id"] not in modules) or (policy.scope_mode == ScopeMode.RISKY and not risky):
            continue
        c = make(ItemKind.SHARING, None, f"sharing:{rule_id}", target_id=rule_id, risky=risky)
        c.route = {"module": rule["module_id"], "resource": None, "organisation": rule["organisation_id"]}
        c.snapshot = {
            "rule": rule_id,
            "name": rule["name"],
            "rule_kind": rule["kind"],
            "module": world.modules[rule["module_id"]]["key"],
            "actions": [a.value for a in actions_of(rule["actions"])],
            "organisation": orgs.get(rule["organisation_id"]),
            "target_organisation": orgs.get(rule["target_organisation_id"]),
            "expires_at": _iso(rule["expires_at"]),
            "reason": rule["reason"],
            "granted_at": _iso(rule["created_at"]),
        }
        c.evidence = {"rule_age_days": (world.now - rule["created_at"]).days}
        c.reasons = [["rule", {"days": c.evidence["rule_age_days"]}]]
        out.append(c)
    return out


def world_at(now):
    """The tenant's access as routing reads it (the evidence world and its ``extra``), without candidates."""
    from reviews.evidence import _World

    world = _World(now)
    world.extra = Extra(world)
    return world


def collect_more(world, policy, users: dict, make) -> list:
    """The candidates of every new kind the policy includes (``make`` builds an empty candidate)."""
    world.extra = Extra(world)
    out: list = []
    if policy.include_memberships:
        out += membership_candidates(world, policy, users, make)
    if policy.include_group_grants:
        out += group_grant_candidates(world, policy, make)
    if policy.include_matrices:
        out += matrix_candidates(world, policy, make)
    if policy.include_organisations:
        out += organisation_candidates(world, policy, users, make)
    if policy.include_sharing:
        out += sharing_candidates(world, policy, make)
    return out
