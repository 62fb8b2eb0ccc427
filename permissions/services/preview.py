"""Impact previews: who gains and who loses what, computed without applying the change."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import ngettext

from permissions import engine
from permissions.models import Grant, GroupMembership, Module, Role
from permissions.services.roles import matrix_of, normalise_matrix
from permissions.vocabulary import BITS, Action, actions_of, mask_of


@dataclass(frozen=True)
class Change:
    """One (module or resource, action) a user gains or loses: ``target`` is the module's key or the
    resource's title, ``label`` what a person reads (a seeded module's name in their language)."""

    target: str
    action: Action
    label: str = field(default="", compare=False)

    def __str__(self) -> str:
        return f"{self.label or self.target} · {self.action.label}"


@dataclass
class Impact:
    """Per user: what they would gain and lose. ``gained``/``lost`` map a user to their changes."""

    gained: dict = field(default_factory=dict)
    lost: dict = field(default_factory=dict)

    @property
    def gaining_users(self) -> int:
        """How many users would gain something."""
        return len(self.gained)

    @property
    def losing_users(self) -> int:
        """How many users would lose something."""
        return len(self.lost)

    def names(self) -> dict[str, list[str]]:
        """User emails in each direction (for the confirmation screen)."""
        return {"gain": sorted(u.email for u in self.gained), "lose": sorted(u.email for u in self.lost)}


def _grant_bits(tenant_id, users) -> dict[int, dict[int, int]]:
    """Module-level bits each user holds through live grants (direct or via groups), one query each."""
    now = timezone.now()
    live = Q(revoked_at__isnull=True) & (Q(expires_at__isnull=True) | Q(expires_at__gt=now))
    user_ids = [u.pk for u in users]
    groups: dict[int, list[int]] = {}
    for m in GroupMembership.objects.filter(user_id__in=user_ids):
        groups.setdefault(m.group_id, []).append(m.user_id)
    bits: dict[int, dict[int, int]] = {uid: {} for uid in user_ids}
    rows = Grant.objects.filter(live, resource__isnull=True).filter(
        Q(user_id__in=user_ids) | Q(group_id__in=list(groups))
    )
    for g in rows:
        for uid in [g.user_id] if g.user_id else groups.get(g.group_id, []):
            bits[uid][g.module_id] = bits[uid].get(g.module_id, 0) | g.actions
    return bits


def preview_role_matrix(role: Role, matrix) -> Impact:
    """Who gains and who loses what if ``role``'s matrix became ``matrix`` (nothing is written)."""
    new = normalise_matrix(matrix)
    old = matrix_of(role)
    modules = {m.key: m for m in Module.objects.all()}
    holders = list(get_user_model().objects.filter(role=role, is_active=True))
    others = _grant_bits(role.tenant_id, holders)
    impact = Impact()
    for user in holders:
        for key in sorted(set(old) | set(new)):
            extra = others[user.pk].get(modules[key].pk, 0)
            before, after = old.get(key, 0) | extra, new.get(key, 0) | extra
            for action in actions_of(after & ~before):
                impact.gained.setdefault(user, []).append(Change(key, action, modules[key].display_name))
            for action in actions_of(before & ~after):
                impact.lost.setdefault(user, []).append(Change(key, action, modules[key].display_name))
    return impact


def preview_group_grant(group, module: Module, actions, *, resource=None) -> Impact:
    """Who would gain what if ``group`` were granted ``actions`` on ``module`` (or one resource)."""
    target = resource or module
    key = resource.title if resource else module.key
    label = resource.title if resource else module.display_name
    impact = Impact()
    members = [m.user for m in GroupMembership.objects.filter(group=group).select_related("user")]
    for user in members:
        for action in actions_of(mask_of(actions)):
            if user.is_active and not engine.can(user, action, target):
                impact.gained.setdefault(user, []).append(Change(key, action, label))
    return impact


def preview_revoke(grant: Grant) -> Impact:
    """Who would lose what if ``grant`` were revoked (paths other than this grant are kept)."""
    target = grant.resource or grant.module
    key = grant.resource.title if grant.resource_id else grant.module.key
    label = grant.resource.title if grant.resource_id else grant.module.display_name
    if grant.user_id:
        users = [grant.user]
    else:
        users = [m.user for m in GroupMembership.objects.filter(group_id=grant.group_id).select_related("user")]
    impact = Impact()
    for user in users:
        for action in actions_of(grant.actions):
            explanation = engine.explain(user, action, target)
            remaining = [p for p in explanation.paths if p.grant is None or p.grant.pk != grant.pk]
            if explanation.allowed and not remaining:
                impact.lost.setdefault(user, []).append(Change(key, action, label))
    return impact


def _rule_matches(rule, users):
    """(user, resources of the rule's module the rule would give them), for users it gives anything."""
    from accounts.organisations import Organisation
    from permissions import sharing
    from permissions.models import Resource

    orgs = {o.pk: o for o in Organisation.objects.filter(tenant_id=rule.tenant_id)}
    sensitive = {rule.module_id: frozenset(rule.module.sensitive_attributes or ())}
    resources = list(Resource.objects.filter(tenant_id=rule.tenant_id, module_id=rule.module_id))
    for user in users:
        clauses = sharing.clauses_for(user, [rule], orgs)
        if clauses:
            matched = [r for r in resources if any(sharing._matches(c, r, sensitive) for c in clauses)]
            if matched:
                yield user, matched


def preview_rule(rule, *, deleting: bool = False) -> Impact:
    """Who would gain what if ``rule`` (unsaved, from ``build_rule``) were created, or, with
    ``deleting``, lose what if the saved ``rule`` were deleted (their other paths are kept). Each
    change names the module and how many of its records."""
    users = list(get_user_model().objects.filter(tenant_id=rule.tenant_id, is_active=True))
    module = rule.module
    impact = Impact()
    direction = impact.lost if deleting else impact.gained
    for user, resources in _rule_matches(rule, users):
        for action in actions_of(rule.actions):
            if deleting:
                count = sum(1 for r in resources if not _other_paths(user, action, r, rule))
            else:
                engine.prefetch(user, resources)
                count = sum(1 for r in resources if not engine.can(user, action, r))
            if count:
                label = ngettext("%(module)s: %(count)d record", "%(module)s: %(count)d records", count) % {
                    "module": module.display_name,
                    "count": count,
                }
                direction.setdefault(user, []).append(Change(module.key, action, label))
    return impact


def _other_paths(user, action, resource, rule) -> bool:
    paths = engine.explain(user, action, resource).paths
    return any(p.rule is None or p.rule.pk != rule.pk for p in paths)


__all__ = [
    "BITS",
    "Change",
    "Impact",
    "preview_group_grant",
    "preview_revoke",
    "preview_role_matrix",
    "preview_rule",
]


def preview_users_to_matrix(users, matrix) -> Impact:
    """Who would gain and lose what if each of ``users`` held a role with ``matrix`` instead of their own
    (their grants kept; nothing is written). Used by mined role proposals (intelligence)."""
    new = normalise_matrix(matrix)
    modules = {m.key: m for m in Module.objects.all()}
    by_id = {m.pk: m for m in modules.values()}
    others = _grant_bits(None, users)
    current = {role.pk: matrix_of(role) for role in {u.role for u in users if u.role_id}}
    impact = Impact()
    for user in users:
        old = current.get(user.role_id, {})
        extra = {by_id[m].key: bits for m, bits in others[user.pk].items()}
        for key in sorted(set(old) | set(new)):
            if key not in modules:
                continue
            before, after = old.get(key, 0) | extra.get(key, 0), new.get(key, 0) | extra.get(key, 0)
            for action in actions_of(after & ~before):
                impact.gained.setdefault(user, []).append(Change(key, action, modules[key].display_name))
            for action in actions_of(before & ~after):
                impact.lost.setdefault(user, []).append(Change(key, action, modules[key].display_name))
    return impact
