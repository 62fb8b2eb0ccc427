"""Who reviews each item at a stage: the stage's reviewers, never someone whose access it is (routed to
the fallback), and a reviewer's active delegation is followed (one hop)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from accounts.models import User
from permissions.models import BuiltinRole
from reviews.models import ItemKind, ReviewDelegation, ReviewerKind
from reviews.services.policies import may_review
from reviews.sod import Beneficiaries


@dataclass
class Target:
    """What routing reads of an item (a candidate at opening, a stored item at a later stage)."""

    kind: str
    user_id: int | None
    role_id: int | None = None
    target_id: int | None = None
    risky: bool = False
    route: dict = field(default_factory=dict)


def target_of(row: dict) -> Target:
    """A stored item's values (kind, user_id, role_id, target_id, route) as a routing target."""
    route = row.get("route") or {}
    return Target(row["kind"], row["user_id"], row["role_id"], row["target_id"], bool(route.get("risky")), route)


class Router:
    """Chooses one reviewer per item of one stage; spreads items evenly among equal reviewers."""

    def __init__(self, policy, world, stage, now):
        self.policy = policy
        self.world = world
        self.stage = stage
        self.load: Counter = Counter()
        self.people = {u.pk: u for u in User.objects.filter(is_active=True).select_related("role")}
        self._eligible: dict[int, bool] = {}
        self.admins = sorted(
            pk
            for pk, u in self.people.items()
            if u.role and u.role.key == BuiltinRole.ADMINISTRATOR and self.eligible(pk)
        )
        self.chosen = [pk for pk in stage.reviewers if self.eligible(pk)]
        self.benefits = Beneficiaries(world)
        self.delegates = {
            d.delegator_id: d.delegate_id
            for d in ReviewDelegation.objects.filter(ended_at__isnull=True, starts_at__lte=now, ends_at__gt=now)
        }
        self.role_owners = {int(k): v for k, v in (policy.role_owners or {}).items()}

    def eligible(self, pk: int | None) -> bool:
        if pk is None or pk not in self.people:
            return False
        if pk not in self._eligible:
            self._eligible[pk] = may_review(self.people[pk])
        return self._eligible[pk]

    def _own(self, pk: int, t: Target) -> bool:
        return self.benefits.includes(pk, t.kind, t.user_id, t.role_id, t.target_id)

    def _least_loaded(self, pool, t: Target) -> int | None:
        options = [pk for pk in pool if self.eligible(pk) and not self._own(pk, t)]
        if not options:
            return None
        return min(options, key=lambda pk: (self.load[pk], pk))

    def _fallback(self, t: Target) -> int:
        fallback = self.stage.fallback_id
        if self.eligible(fallback) and not self._own(fallback, t):
            return fallback
        other = self._least_loaded(self.admins, t)
        # With nobody else at all, the item goes to the fallback, who may not decide it: the policy default applies.
        return other if other is not None else fallback

    def _owners(self, t: Target) -> list[int]:
        """Who owns the access: the group's owners, the role's owner, the resource's or module's owners,
        the organisation's administrators."""
        world, extra = self.world, self.world.extra
        if t.kind in (ItemKind.MEMBERSHIP, ItemKind.GROUP_GRANT):
            return world.owners_of.get(t.target_id, [])
        if t.kind in (ItemKind.ROLE, ItemKind.MATRIX):
            owner = self.role_owners.get(t.role_id)
            return [owner] if owner else []
        if t.kind == ItemKind.ORGANISATION:
            return extra.admins_of(t.target_id)
        resource = t.route.get("resource")
        if resource and extra.resource_owner.get(resource):
            return [extra.resource_owner[resource]]
        return extra.module_owners.get(t.route.get("module"), [])

    def _organisation_admins(self, t: Target) -> list[int]:
        extra = self.world.extra
        if t.kind == ItemKind.ORGANISATION:
            return extra.admins_of(t.target_id)
        if t.kind == ItemKind.SHARING:
            return extra.admins_of(t.route.get("organisation"))
        return extra.admins_of(extra.organisation_of.get(t.user_id)) if t.user_id else []

    def _pool(self, t: Target) -> list[int]:
        kind = self.stage.reviewer_kind
        if kind == ReviewerKind.ADMINISTRATORS:
            return self.admins
        if kind == ReviewerKind.CHOSEN:
            return self.chosen
        if kind == ReviewerKind.GROUP_OWNERS:
            if t.kind in (ItemKind.MEMBERSHIP, ItemKind.GROUP_GRANT):
                return self.world.owners_of.get(t.target_id, [])
            return [pk for g in self.world.groups_of.get(t.user_id, ()) for pk in self.world.owners_of.get(g, ())]
        if kind == ReviewerKind.ORGANISATION_ADMINS:
            return self._organisation_admins(t)
        if kind == ReviewerKind.OWNERS:
            return self._owners(t)
        return []

    def _delegated(self, chosen: int, t: Target) -> int | None:
        delegate = self.delegates.get(chosen)
        if delegate is not None and self.eligible(delegate) and not self._own(delegate, t):
            return delegate
        return None

    def route(self, t: Target) -> tuple[int, str, int | None]:
        """(reviewer id, routing note, delegated from): note "" for the stage's reviewer, "self",
        "fallback" or "delegated"."""
        if self.stage.reviewer_kind == ReviewerKind.SELF:
            if t.user_id and not t.risky and self.eligible(t.user_id) and t.kind != ItemKind.MATRIX:
                self.load[t.user_id] += 1
                return t.user_id, "self", None
            chosen = None
        else:
            chosen = self._least_loaded(self._pool(t), t)
        note, source = "", None
        if chosen is None:
            chosen, note = self._fallback(t), "fallback"
        delegate = self._delegated(chosen, t)
        if delegate is not None:
            chosen, note, source = delegate, "delegated", chosen
        self.load[chosen] += 1
        return chosen, note, source
