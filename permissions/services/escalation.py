"""What escalates: changes that give console (system-module) rights. Each needs a second administrator's
approval (the services return a PendingChange), and whoever proposes one must have passed an MFA check
in the last minutes (the views ask for a step-up first). One definition for both rules, and for who is
*privileged* (MFA policy "administrators and reviewers", INS-6): whoever holds a console right."""

from __future__ import annotations

from permissions.models import Group, Module, Role, RolePermission
from permissions.vocabulary import SYSTEM_MODULE_KEYS, ModuleKind


def holds_console_rights(user) -> bool:
    """``user`` holds at least one system-module action now, however obtained (role, custom role,
    direct grant, group grant): the engine's compiled set decides, never the role's name."""
    from permissions import engine  # the engine's import chain reaches the services

    entry = engine.compiled_for(user)
    if entry is None:
        return False
    return any(entry.modules.get(entry.keys.get(key), 0) for key in SYSTEM_MODULE_KEYS)


def grant_escalates(module: Module) -> bool:
    """A grant on a system module."""
    return module.is_system


def matrix_gain_escalates(old: dict[str, int], new: dict[str, int], modules: dict[str, Module]) -> bool:
    """A matrix (``{module key: mask}``) that adds actions on a system module to ``old``."""
    return any(key in modules and modules[key].is_system and mask & ~old.get(key, 0) for key, mask in new.items())


def escalating_role_ids():
    """The roles whose matrix holds a system-module action (a subquery of role ids)."""
    return RolePermission.objects.filter(module__kind=ModuleKind.SYSTEM, actions__gt=0).values("role_id")


def role_escalates(role: Role) -> bool:
    """Holding ``role`` gives system-module actions."""
    return escalating_role_ids().filter(role=role).exists()


def membership_escalates(group: Group) -> bool:
    """Joining ``group`` gives system-module actions (through its live grants)."""
    from permissions.services.groups import live_grants  # groups imports this module

    return live_grants(group).filter(module__kind=ModuleKind.SYSTEM).exists()
