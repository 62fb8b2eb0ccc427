"""Sharing rules: create one (after its impact preview), delete one. Rules are not edited in place: a
change is a new rule and the old one deleted, each audited, so the trail shows every version.

Creating or deleting a rule needs grants: create / grants: delete, and the actor must hold the rule's
actions on the module themselves (nobody shares what they may not do). The criteria language is one
non-sensitive attribute equal to one string."""

from __future__ import annotations

import re
from datetime import datetime

from django.db import transaction
from django.utils import timezone

import audit
from audit.events import EventType
from permissions.models import Module, SharingRule
from permissions.services.checks import require, require_scope, same_tenant
from permissions.services.errors import AccessRefused, ErrorCode
from permissions.versioning import bump, mark_sharing_rules
from permissions.vocabulary import BUSINESS_ACTIONS, Action, ModuleKind, actions_of, mask_of

#: An attribute name a criterion may test: letters, digits and single underscores.
ATTRIBUTE_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9]*(_[A-Za-z0-9]+)*$")


def _check_kind(tenant_id, kind, organisation, target, role, key, value, module) -> None:
    same_tenant(tenant_id, organisation, target, role)
    if kind == SharingRule.Kind.OWN:
        if organisation or target or role or key:
            raise AccessRefused(ErrorCode.INVALID, "an own-records rule names no organisation, role or attribute")
    elif kind == SharingRule.Kind.PARTNER:
        if organisation is None or target is None or organisation.pk == target.pk or role or key:
            raise AccessRefused(ErrorCode.INVALID, "a partner rule names two different organisations")
    elif kind == SharingRule.Kind.CRITERIA:
        if (organisation is None) == (role is None) or target:
            raise AccessRefused(ErrorCode.INVALID, "a criteria rule names one organisation or one role")
        if not ATTRIBUTE_KEY.match(key or "") or len(key) > 64:
            raise AccessRefused(ErrorCode.INVALID, "an attribute name is letters, digits and underscores")
        if key in (module.sensitive_attributes or ()):
            raise AccessRefused(ErrorCode.INVALID, "a sensitive attribute cannot be a criterion")
        if not isinstance(value, str) or not value or len(value) > 200:
            raise AccessRefused(ErrorCode.INVALID, "a criterion compares with a text of 1 to 200 characters")
    else:
        raise AccessRefused(ErrorCode.INVALID, "unknown kind of rule")


def build_rule(
    *,
    tenant,
    name: str,
    kind: str,
    module: Module,
    actions,
    reason: str,
    include_children: bool = False,
    organisation=None,
    target_organisation=None,
    role=None,
    attribute_key: str = "",
    attribute_value: str = "",
    expires_at: datetime | None = None,
    created_by=None,
) -> SharingRule:
    """A checked, unsaved rule (what ``preview_rule`` and ``create_rule`` take); refuses bad input."""
    same_tenant(tenant.pk, module)
    name, reason = (name or "").strip(), (reason or "").strip()
    if not name or len(name) > 200:
        raise AccessRefused(ErrorCode.INVALID, "a rule needs a name (at most 200 characters)")
    if not reason:
        raise AccessRefused(ErrorCode.INVALID, "a rule needs a reason")
    if module.kind == ModuleKind.SYSTEM:
        raise AccessRefused(ErrorCode.INVALID, "sharing rules give access to business records only")
    mask = mask_of(actions)
    if not mask or any(a not in BUSINESS_ACTIONS for a in actions_of(mask)):
        raise AccessRefused(ErrorCode.INVALID, "choose actions of a business module")
    if expires_at is not None and expires_at <= timezone.now():
        raise AccessRefused(ErrorCode.INVALID, "the expiry must be in the future")
    _check_kind(tenant.pk, kind, organisation, target_organisation, role, attribute_key, attribute_value, module)
    return SharingRule(
        tenant=tenant,
        name=name,
        kind=kind,
        module=module,
        actions=mask,
        include_children=bool(include_children) and kind == SharingRule.Kind.OWN,
        organisation=organisation,
        target_organisation=target_organisation,
        role=role,
        attribute_key=attribute_key or "",
        attribute_value=attribute_value or "",
        expires_at=expires_at,
        reason=reason,
        created_by=created_by,
    )


def describe(rule: SharingRule) -> dict:
    """The rule as recorded in the audit trail."""
    return {
        "name": rule.name,
        "kind": rule.kind,
        "module": rule.module.key,
        "actions": [a.value for a in actions_of(rule.actions)],
        "include_children": rule.include_children,
        "organisation": rule.organisation_id,
        "target_organisation": rule.target_organisation_id,
        "role": rule.role_id,
        "attribute": rule.attribute_key or None,
        "value": rule.attribute_value or None,
        "expires_at": rule.expires_at.isoformat() if rule.expires_at else None,
    }


@transaction.atomic
def create_rule(rule: SharingRule, *, actor) -> SharingRule:
    """Save a rule from ``build_rule``. Needs grants: create and every action of the rule on its module."""
    if actor is not None:
        same_tenant(actor.tenant_id, rule)
    require(actor, Action.CREATE, "grants")
    require_scope(actor, rule.actions, rule.module)
    if SharingRule.objects.filter(tenant_id=rule.tenant_id, name=rule.name).exists():
        raise AccessRefused(ErrorCode.INVALID, "choose another name")
    rule.created_by = actor
    rule.save()
    bump(rule.tenant_id)
    mark_sharing_rules(rule.tenant_id)
    audit.record(
        EventType.SHARING_RULE_CREATED,
        tenant=rule.tenant,
        actor=actor,
        target=rule,
        after=describe(rule),
        reason=rule.reason,
    )
    return rule


@transaction.atomic
def delete_rule(rule: SharingRule, *, actor, reason: str = "") -> None:
    """Delete a rule: whoever it gave access loses it. Needs grants: delete."""
    if actor is not None:
        same_tenant(actor.tenant_id, rule)
    require(actor, Action.DELETE, "grants")
    rule = SharingRule.objects.select_for_update().select_related("module").get(pk=rule.pk)
    before = describe(rule)
    tenant = rule.tenant
    audit.record(EventType.SHARING_RULE_DELETED, tenant=tenant, actor=actor, target=rule, before=before, reason=reason)
    rule.delete()
    bump(tenant.pk)
