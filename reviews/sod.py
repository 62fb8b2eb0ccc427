"""Separation of duties in reviews: nobody reviews their own access, at any stage.

An item is a person's own access when it gives that person access: their role, grant, group or
organisation membership (the item's user); a grant of a group they belong to; the matrix of the role
they hold; a sharing rule that reaches them. Routing asks ``Beneficiaries`` (in memory, from the
tenant's snapshot); decisions and bulk selections ask ``own_access_q`` (one query): the same rules.
"""

from __future__ import annotations

from django.db.models import Q

from reviews.models import PERSONAL_KINDS, ItemKind


def rule_reaches(rule: dict, organisation_id: int | None, role_id: int | None, active_orgs: set[int]) -> bool:
    """A live sharing rule (as a dict of its columns) gives something to a user of this organisation and role."""
    member = organisation_id if organisation_id in active_orgs else None
    if rule["kind"] == "own":
        return member is not None
    if rule["kind"] == "partner":
        return member is not None and rule["organisation_id"] == member
    by_org = member is not None and rule["organisation_id"] == member
    return by_org or (rule["role_id"] is not None and rule["role_id"] == role_id)


RULE_FIELDS = ("id", "kind", "organisation_id", "target_organisation_id", "role_id")


def _rules_reaching(user) -> list[int]:
    from accounts.models import Organisation
    from permissions.models import SharingRule

    active = set(Organisation.objects.filter(status="active").values_list("pk", flat=True))
    return [
        rule["id"]
        for rule in SharingRule.objects.values(*RULE_FIELDS)
        if rule_reaches(rule, user.organisation_id, user.role_id, active)
    ]


def own_access_q(user) -> Q:
    """Items (of any kind) that are ``user``'s own access."""
    from permissions.models import GroupMembership

    groups = list(GroupMembership.objects.filter(user_id=user.pk).values_list("group_id", flat=True))
    return (
        Q(kind__in=PERSONAL_KINDS, user_id=user.pk)
        | Q(kind=ItemKind.MATRIX, role_id=user.role_id)
        | Q(kind=ItemKind.GROUP_GRANT, target_id__in=groups)
        | Q(kind=ItemKind.SHARING, target_id__in=_rules_reaching(user))
    )


def is_own_access(item, user) -> bool:
    """``item`` gives ``user`` access (one query)."""
    from reviews.models import ReviewItem

    return ReviewItem.objects.filter(pk=item.pk).filter(own_access_q(user)).exists()


class Beneficiaries:
    """The same rules over the tenant's snapshot read at opening (no query per item)."""

    def __init__(self, world):
        self.world = world

    def includes(self, pk: int, kind: str, user_id, role_id, target_id) -> bool:
        world, extra = self.world, self.world.extra
        if kind in PERSONAL_KINDS:
            return pk == user_id
        person = world.users.get(pk)
        if person is None:
            return False
        if kind == ItemKind.MATRIX:
            return person["role_id"] == role_id
        if kind == ItemKind.GROUP_GRANT:
            return target_id in world.groups_of.get(pk, ())
        if kind == ItemKind.SHARING:
            rule = extra.rules.get(target_id)
            return rule is not None and rule_reaches(
                rule, extra.organisation_of.get(pk), person["role_id"], extra.active_orgs
            )
        return False
