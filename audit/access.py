"""Who may use the audit viewer: the permission engine decides, through the audit system module."""

from __future__ import annotations

from permissions import engine
from permissions.vocabulary import Action, SystemModule


def can_view_audit(user) -> bool:
    """True when the engine grants ``view`` on the audit module (the menu entry asks this)."""
    return engine.can(user, Action.VIEW, SystemModule.AUDIT)
