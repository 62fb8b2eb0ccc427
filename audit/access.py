"""Who may use the audit viewer. ONE function, so the permission engine can replace it in one place."""

from __future__ import annotations

from permissions.models import BuiltinRole


def can_view_audit(user) -> bool:
    """True for active tenant users whose role is Administrator (until the permission engine decides)."""
    if not (getattr(user, "is_authenticated", False) and user.is_active and user.tenant_id):
        return False
    role = user.role
    return role is not None and role.tenant_id == user.tenant_id and role.key == BuiltinRole.ADMINISTRATOR
