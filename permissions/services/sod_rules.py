"""Separation-of-duties rules: create one, delete one (each audited). Rules are not edited in place: a change
is a new rule and the old one deleted, so the trail shows every version. Creating needs grants: create,
deleting grants: delete (the same rights as sharing rules: both decide who may hold what)."""

from __future__ import annotations

from django.db import transaction

import audit
from audit.events import EventType
from permissions.models import Module, Role, SodRule
from permissions.services.checks import require, same_tenant
from permissions.services.errors import AccessRefused, ErrorCode
from permissions.versioning import bump
from permissions.vocabulary import Action, actions_of, mask_of


def _side(tenant_id, role: Role | None, module: Module | None, actions) -> tuple[Role | None, Module | None, int]:
    """A checked side: a role, or some actions that apply to a module."""
    same_tenant(tenant_id, role, module)
    if (role is None) == (module is None):
        raise AccessRefused(ErrorCode.INVALID, "each side names a role or a module with actions")
    if role is not None:
        return role, None, 0
    mask = mask_of(actions or ())
    if not mask or mask & ~module.actions:
        raise AccessRefused(ErrorCode.INVALID, "choose actions that apply to the module")
    return None, module, mask


def describe_side(role: Role | None, module: Module | None, mask: int) -> str:
    """A side in words ("role Auditor", "payments: approve, create"), for the trail and the pages."""
    if role is not None:
        return f"role {role.key}"
    return f"{module.key}: {', '.join(a.value for a in actions_of(mask))}"


@transaction.atomic
def create_rule(
    *,
    actor,
    tenant,
    name: str,
    reason: str,
    severity: str = SodRule.Severity.HIGH,
    allow_exceptions: bool = False,
    first_role=None,
    first_module=None,
    first_actions=(),
    second_role=None,
    second_module=None,
    second_actions=(),
) -> SodRule:
    """A new rule: nobody may hold the first side and the second together. Existing violations are not
    touched (they are listed); every later change that would create one is refused or needs an exception."""
    if actor is not None and actor.tenant_id != tenant.pk:
        raise AccessRefused(ErrorCode.CROSS_TENANT)
    require(actor, Action.CREATE, "grants")
    name, reason = (name or "").strip(), (reason or "").strip()
    if not name or len(name) > 200 or SodRule.objects.filter(name=name).exists():
        raise AccessRefused(ErrorCode.INVALID, "choose another name (at most 200 characters)")
    if not reason:
        raise AccessRefused(ErrorCode.INVALID, "a rule needs a reason")
    if severity not in SodRule.Severity.values:
        raise AccessRefused(ErrorCode.INVALID, "unknown severity")
    first = _side(tenant.pk, first_role, first_module, first_actions)
    second = _side(tenant.pk, second_role, second_module, second_actions)
    if first[0] is not None and second[0] is not None:
        raise AccessRefused(ErrorCode.INVALID, "a user holds one role: two roles never combine")
    rule = SodRule.objects.create(
        tenant=tenant,
        name=name,
        reason=reason,
        severity=severity,
        allow_exceptions=bool(allow_exceptions),
        first_role=first[0],
        first_module=first[1],
        first_actions=first[2],
        second_role=second[0],
        second_module=second[1],
        second_actions=second[2],
        created_by=actor,
    )
    audit.record(
        EventType.SOD_RULE_CREATED,
        tenant=tenant,
        actor=actor,
        target=rule,
        after={
            "name": name,
            "severity": severity,
            "allow_exceptions": rule.allow_exceptions,
            "first": describe_side(*first),
            "second": describe_side(*second),
        },
        reason=reason,
    )
    bump(tenant.pk)  # the engine's compiled rules are per version
    return rule


@transaction.atomic
def delete_rule(rule: SodRule, *, actor, reason: str) -> None:
    """Delete a rule and the exceptions approved under it."""
    if actor is not None:
        same_tenant(actor.tenant_id, rule)
    require(actor, Action.DELETE, "grants")
    if not (reason or "").strip():
        raise AccessRefused(ErrorCode.INVALID, "a deletion needs a reason")
    rule = SodRule.objects.select_for_update().get(pk=rule.pk)
    before = {
        "name": rule.name,
        "severity": rule.severity,
        "first": describe_side(rule.first_role, rule.first_module, rule.first_actions),
        "second": describe_side(rule.second_role, rule.second_module, rule.second_actions),
        "exceptions": rule.exceptions.count(),
    }
    audit.record(EventType.SOD_RULE_DELETED, tenant=rule.tenant, actor=actor, target=rule, before=before, reason=reason)
    rule.delete()
    bump(rule.tenant_id)
