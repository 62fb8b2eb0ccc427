"""Who reviews each item: the policy's reviewers, never the subject (routed to the fallback)."""

from __future__ import annotations

from collections import Counter

from accounts.models import User
from permissions.models import BuiltinRole
from reviews.models import ReviewerKind
from reviews.services.policies import may_review


class Router:
    """Chooses one reviewer per candidate; spreads items evenly among equal reviewers."""

    def __init__(self, policy, world):
        self.policy = policy
        self.world = world
        self.load: Counter = Counter()
        people = {u.pk: u for u in User.objects.filter(is_active=True).select_related("role")}
        self._eligible: dict[int, bool] = {}
        self.people = people
        self.admins = sorted(
            pk for pk, u in people.items() if u.role and u.role.key == BuiltinRole.ADMINISTRATOR and self.eligible(pk)
        )
        self.chosen = [pk for pk in policy.reviewers or [] if self.eligible(pk)]

    def eligible(self, pk: int | None) -> bool:
        if pk is None or pk not in self.people:
            return False
        if pk not in self._eligible:
            self._eligible[pk] = may_review(self.people[pk])
        return self._eligible[pk]

    def _least_loaded(self, pool, subject: int) -> int | None:
        options = [pk for pk in pool if pk != subject]
        if not options:
            return None
        return min(options, key=lambda pk: (self.load[pk], pk))

    def _fallback(self, subject: int) -> int:
        fallback = self.policy.fallback_reviewer_id
        if fallback != subject and self.eligible(fallback):
            return fallback
        other = self._least_loaded(self.admins, subject)
        # With nobody else at all, the item goes to the fallback, who may not decide it: the policy default applies.
        return other if other is not None else fallback

    def route(self, candidate) -> tuple[int, str]:
        """(reviewer id, routing note): "" for the policy's reviewer, "self", or "fallback"."""
        subject = candidate.user_id
        kind = self.policy.reviewer_kind
        chosen = None
        if kind == ReviewerKind.SELF and not candidate.risky and self.eligible(subject):
            self.load[subject] += 1
            return subject, "self"
        if kind == ReviewerKind.ADMINISTRATORS:
            chosen = self._least_loaded(self.admins, subject)
        elif kind == ReviewerKind.CHOSEN:
            chosen = self._least_loaded(self.chosen, subject)
        elif kind == ReviewerKind.GROUP_OWNERS:
            owners = [
                pk
                for group in self.world.groups_of.get(subject, ())
                for pk in self.world.owners_of.get(group, ())
                if self.eligible(pk)
            ]
            chosen = self._least_loaded(owners, subject)
        note = ""
        if chosen is None:
            chosen, note = self._fallback(subject), "fallback"
        self.load[chosen] += 1
        return chosen, note
