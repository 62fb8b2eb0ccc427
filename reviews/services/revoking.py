"""Applying a revoke of the kinds beyond grants and role memberships, each through its audited service:
a group membership (``groups.remove_member``), a role's matrix cell (``roles.set_role_matrix`` without
that module's actions), an organisation membership (``organisations.set_user_organisation`` to none), a
sharing rule (``sharing_rules.delete_rule``). A group's grant goes the grants' way (``grants.revoke``).

Each runs inside ``applying.apply_item``'s transaction, on the locked item, so the exactly-once marker
is written with the change. Access that changed since opening is left alone (``unchanged``); access
already gone is ``nothing``; a change refused for leaving no administrator is ``guarded``.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from accounts.models import Organisation, User
from permissions.models import Group, GroupMembership, Role, SharingRule
from permissions.services import groups, organisations, roles, sharing_rules
from permissions.services.roles import matrix_of
from reviews.models import ApplyResult, ItemKind


def _membership(item, reason: str) -> tuple[str, str]:
    group = Group.objects.filter(pk=item.target_id).first()
    user = User.objects.filter(pk=item.user_id).first()
    if group is None or user is None or not GroupMembership.objects.filter(group=group, user=user).exists():
        return ApplyResult.NOTHING, _("The membership had already ended.")
    groups.remove_member(group, user, actor=None)
    return ApplyResult.APPLIED, _("Removed from the group %(group)s.") % {"group": group.name}


def _matrix(item, reason: str) -> tuple[str, str]:
    role = Role.objects.select_for_update().filter(pk=item.role_id).first()
    if role is None:
        return ApplyResult.NOTHING, _("The role no longer exists.")
    key, mask = item.snapshot.get("module"), item.snapshot.get("mask")
    matrix = matrix_of(role)
    if key not in matrix:
        return ApplyResult.NOTHING, _("The role no longer gives anything on this module.")
    if matrix[key] != mask:
        return ApplyResult.UNCHANGED, _("The role's matrix changed since the campaign opened.")
    del matrix[key]
    roles.set_role_matrix(role, matrix, actor=None, reason=reason)
    return ApplyResult.APPLIED, _("%(module)s removed from the role %(role)s.") % {
        "module": key,
        "role": role.display_name,
    }


def _organisation(item, reason: str) -> tuple[str, str]:
    user = User.objects.select_for_update().filter(pk=item.user_id).first()
    if user is None or user.organisation_id is None:
        return ApplyResult.NOTHING, _("The user no longer belongs to an organisation.")
    if user.organisation_id != item.target_id:
        return ApplyResult.UNCHANGED, _("The user's organisation changed since the campaign opened.")
    name = Organisation.objects.filter(pk=item.target_id).values_list("name", flat=True).first()
    organisations.set_user_organisation(user, None, actor=None, reason=reason)
    return ApplyResult.APPLIED, _("Removed from the organisation %(organisation)s.") % {"organisation": name}


def _sharing(item, reason: str) -> tuple[str, str]:
    rule = SharingRule.objects.filter(pk=item.target_id).first()
    if rule is None:
        return ApplyResult.NOTHING, _("The sharing rule had already been deleted.")
    sharing_rules.delete_rule(rule, actor=None, reason=reason)
    return ApplyResult.APPLIED, _("Sharing rule %(name)s deleted.") % {"name": rule.name}


APPLY = {
    ItemKind.MEMBERSHIP: _membership,
    ItemKind.MATRIX: _matrix,
    ItemKind.ORGANISATION: _organisation,
    ItemKind.SHARING: _sharing,
}


def revoke_other(item, reason: str) -> tuple[str, str]:
    """Apply the revoke of one item of a kind listed in ``APPLY``."""
    return APPLY[item.kind](item, reason)
