"""Shared guards of the permission services: tenant, actor rights, scope (no escalation)."""

from __future__ import annotations

from permissions import engine
from permissions.services.errors import AccessRefused, ErrorCode
from permissions.vocabulary import Action, actions_of


def same_tenant(tenant_id: int, *objects) -> None:
    """Refuse any object of another tenant (AZ-2): roles, users, groups, modules, resources."""
    for obj in objects:
        if obj is not None and getattr(obj, "tenant_id", None) != tenant_id:
            raise AccessRefused(ErrorCode.CROSS_TENANT)


def require(actor, action: Action, module_key: str) -> None:
    """The actor must hold ``action`` on the (system) module. ``actor=None`` is the system itself."""
    if actor is None:
        return
    if not engine.can(actor, action, module_key):
        raise AccessRefused(ErrorCode.NOT_ALLOWED)


def require_scope(actor, mask: int, target) -> None:
    """The actor must hold every action of ``mask`` on ``target`` themselves (Saleor's out-of-scope)."""
    if actor is None:
        return
    missing = [action for action in actions_of(mask) if not engine.can(actor, action, target)]
    if missing:
        raise AccessRefused(ErrorCode.OUT_OF_SCOPE, missing=missing)
