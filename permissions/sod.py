"""Separation of duties in the engine: which rules a set of rights violates (issue 17).

A tenant's rules are compiled once per authorization version into small tuples (``Side``: a role id, or a
module id and a mask) kept in this process, like the compiled sets (a rule change bumps the version). A
check is then pure arithmetic on a compiled set's ``modules`` (module id → bits) and the user's role id:
no query once the tenant's rules are loaded. ``tenant_violations`` answers the same question for every user
of a tenant in a handful of queries (the console page, the API, review evidence).

A side on a module is held when the user holds *any* of its actions on the whole module (a role's matrix,
a module grant, a group's module grant). Grants on one resource count when they are being given (the
preventive check treats them as their module's actions) but not in the detective list, which reads
module-level rights only.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone

from permissions.compiled import MAX_SET_SECONDS
from permissions.models import Grant, GroupMembership, RolePermission, SodException, SodRule
from permissions.versioning import current_version
from permissions.vocabulary import BITS


@dataclass(frozen=True)
class Side:
    """One side of a rule: holding ``role_id``, or any bit of ``mask`` on ``module_id``."""

    role_id: int | None
    module_id: int | None
    mask: int

    def held(self, bits: dict[int, int], role_id: int | None) -> bool:
        """Whether rights ``bits`` (module id → mask) with role ``role_id`` hold this side."""
        if self.role_id is not None:
            return self.role_id == role_id
        return bool(bits.get(self.module_id, 0) & self.mask)


@dataclass(frozen=True)
class CompiledRule:
    """A rule as the check reads it."""

    rule_id: int
    first: Side
    second: Side
    allow_exceptions: bool

    def violated_by(self, bits: dict[int, int], role_id: int | None) -> bool:
        """Whether ``bits`` with ``role_id`` hold both sides."""
        return self.first.held(bits, role_id) and self.second.held(bits, role_id)


@dataclass
class TenantRules:
    """A tenant's compiled rules at one authorization version."""

    version: object
    rules: tuple[CompiledRule, ...]
    valid_until: float


_tenants: dict[int, TenantRules] = {}


def clear() -> None:
    """Forget every tenant's compiled rules (tests, benchmarks)."""
    _tenants.clear()


def _side(role_id, module_id, mask) -> Side:
    return Side(role_id, None, 0) if role_id is not None else Side(None, module_id, mask)


def compile_rules(tenant_id: int) -> tuple[CompiledRule, ...]:
    """The tenant's rules as tuples (one query; explicit tenant: jobs and reviews run it outside a request)."""
    rows = SodRule._base_manager.filter(tenant_id=tenant_id).values_list(
        "pk",
        "first_role_id",
        "first_module_id",
        "first_actions",
        "second_role_id",
        "second_module_id",
        "second_actions",
        "allow_exceptions",
    )
    return tuple(
        CompiledRule(pk, _side(r1, m1, a1), _side(r2, m2, a2), allowed) for pk, r1, m1, a1, r2, m2, a2, allowed in rows
    )


def tenant_rules(tenant_id: int, version=None) -> tuple[CompiledRule, ...]:
    """The tenant's compiled rules at its current version (no query while they are cached)."""
    version = current_version(tenant_id) if version is None else version
    entry = _tenants.get(tenant_id)
    if entry is None or entry.version != version or time.time() >= entry.valid_until:
        entry = TenantRules(version, compile_rules(tenant_id), time.time() + MAX_SET_SECONDS)
        _tenants[tenant_id] = entry
    return entry.rules


def violated(bits: dict[int, int], role_id, rules) -> list[CompiledRule]:
    """The rules that rights ``bits`` with role ``role_id`` violate: the fast path (no query)."""
    return [rule for rule in rules if rule.violated_by(bits, role_id)]


def user_violations(user) -> list[CompiledRule]:
    """The rules ``user`` violates now, read on their compiled set (what the check API's explain reports)."""
    from permissions import engine

    entry = engine.compiled_for(user)
    if entry is None:
        return []
    return violated(entry.modules, user.role_id, tenant_rules(user.tenant_id, entry.version))


@dataclass(frozen=True)
class Violation:
    """A user holding both sides of a rule, and the exception that allows it (if any)."""

    user_id: int
    rule: SodRule
    exception: SodException | None


def module_bits_by_user(tenant_id: int, users: dict[int, int | None], now=None) -> dict[int, dict[int, int]]:
    """Module-level rights of ``users`` (id → role id), from roles, module grants and group module grants:
    four queries for the whole tenant, the same rows the compiled sets read."""
    now = now or timezone.now()
    live = Q(revoked_at__isnull=True, resource__isnull=True) & (Q(expires_at__isnull=True) | Q(expires_at__gt=now))
    matrix: dict[int, dict[int, int]] = defaultdict(dict)
    for role_id, module_id, mask in RolePermission._base_manager.filter(tenant_id=tenant_id).values_list(
        "role_id", "module_id", "actions"
    ):
        matrix[role_id][module_id] = mask
    bits: dict[int, dict[int, int]] = {uid: dict(matrix.get(role_id, {})) for uid, role_id in users.items()}
    grants = Grant._base_manager.filter(live, tenant_id=tenant_id)
    for user_id, module_id, mask in grants.filter(user_id__isnull=False).values_list("user_id", "module_id", "actions"):
        if user_id in bits:
            bits[user_id][module_id] = bits[user_id].get(module_id, 0) | mask
    members: dict[int, list[int]] = defaultdict(list)
    for group_id, user_id in GroupMembership._base_manager.filter(tenant_id=tenant_id).values_list(
        "group_id", "user_id"
    ):
        members[group_id].append(user_id)
    for group_id, module_id, mask in grants.filter(group_id__isnull=False).values_list(
        "group_id", "module_id", "actions"
    ):
        for user_id in members.get(group_id, ()):
            if user_id in bits:
                bits[user_id][module_id] = bits[user_id].get(module_id, 0) | mask
    return bits


def tenant_violations(tenant_id: int, *, user_ids=None) -> list[Violation]:
    """Every (active user, rule) violation of the tenant now, with its exception: a constant number of queries."""
    from accounts.models import User

    rules = {
        rule.pk: rule
        for rule in SodRule._base_manager.filter(tenant_id=tenant_id).select_related(
            "first_module", "second_module", "first_role", "second_role"
        )
    }
    if not rules:
        return []
    people = User._base_manager.filter(tenant_id=tenant_id, is_active=True)
    if user_ids is not None:
        people = people.filter(pk__in=list(user_ids))
    users = dict(people.values_list("pk", "role_id"))
    bits = module_bits_by_user(tenant_id, users)
    exceptions = {
        (e.rule_id, e.user_id): e for e in SodException._base_manager.filter(tenant_id=tenant_id, rule_id__in=rules)
    }
    compiled = compile_rules(tenant_id)
    found = []
    for user_id, role_id in users.items():
        for rule in violated(bits[user_id], role_id, compiled):
            found.append(Violation(user_id, rules[rule.rule_id], exceptions.get((rule.rule_id, user_id))))
    return found


def _touches(rule: SodRule, snapshot: dict, role_id) -> bool:
    """Whether a review item's access (its frozen snapshot) is one side of ``rule``."""
    for role, module, mask in (
        (rule.first_role_id, rule.first_module, rule.first_actions),
        (rule.second_role_id, rule.second_module, rule.second_actions),
    ):
        if role is not None and "role" in snapshot and role == role_id:
            return True
        if module is None:
            continue
        held = snapshot.get("modules", {}).get(module.key) if "role" in snapshot else None
        if "grant" in snapshot and snapshot.get("module") == module.key:
            held = snapshot.get("actions")
        if held and any(mask & BITS.get(action, 0) for action in held):
            return True
    return False


def flag_candidates(candidates, now) -> None:
    """Review evidence: flag each item whose access is a side of a rule its user violates (inside the scope)."""
    if not candidates:
        return
    from accounts.scoping import active_tenant

    tenant = active_tenant()
    if tenant is None:
        return
    by_user: dict[int, list[Violation]] = defaultdict(list)
    for violation in tenant_violations(tenant.pk):
        by_user[violation.user_id].append(violation)
    for candidate in candidates:
        rules = [
            v.rule
            for v in by_user.get(candidate.user_id, ())
            if _touches(v.rule, candidate.snapshot, candidate.role_id)
        ]
        if rules:
            names = sorted(rule.name for rule in rules)
            candidate.evidence["sod"] = names
            candidate.reasons.append(["sod_conflict", {"rules": ", ".join(names)}])
            candidate.flagged = True
