"""What escalates: changes that give console (system-module) rights. Each needs a second administrator's
approval (the services return a PendingChange), and whoever proposes one must have passed an MFA check
in the last minutes (the views ask for a step-up first). One definition for both rules."""

from __future__ import annotations

from django.db.models import Q
from django.utils import timezone

from permissions.models import Grant, Group, Module, Role, RolePermission


def grant_escalates(module: Module) -> bool:
    """A grant on a system module."""
    return module.is_system


def matrix_gain_escalates(old: dict[str, int], new: dict[str, int], modules: dict[str, Module]) -> bool:
    """A matrix (``{module key: mask}``) that adds actions on a system module to ``old``."""
    return any(key in modules and modules[key].is_system and mask & ~old.get(key, 0) for key, mask in new.items())


def matrix_escalates(role: Role, new: dict[str, int]) -> bool:
    """Replacing ``role``'s matrix by ``new`` adds system-module actions."""
    from permissions.services.roles import matrix_of, normalise_matrix

    modules = {m.key: m for m in Module.objects.filter(key__in=list(new))}
    return matrix_gain_escalates(matrix_of(role), normalise_matrix(new), modules)


def role_escalates(role: Role) -> bool:
    """Holding ``role`` gives system-module actions."""
    return RolePermission.objects.filter(role=role, module__kind="system", actions__gt=0).exists()


def membership_escalates(group: Group) -> bool:
    """Joining ``group`` gives system-module actions (through its live grants)."""
    now = timezone.now()
    return (
        Grant.objects.filter(group=group, revoked_at__isnull=True, module__kind="system")
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .exists()
    )
