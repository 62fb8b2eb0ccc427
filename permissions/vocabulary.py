"""The one vocabulary of access: actions, system modules and seeded business modules.

Call sites use these enums, never permission strings. Each action is one bit, so a set of actions is
an integer bitmask (role matrices, grants and the engine's compiled sets all store masks).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import models
from django.utils.translation import gettext_lazy as _


class Action(models.TextChoices):
    """What a user may do on a module or a resource."""

    VIEW = "view", _("View")
    CREATE = "create", _("Create")
    CHANGE = "change", _("Change")
    DELETE = "delete", _("Delete")
    EXPORT = "export", _("Export")
    REVIEW = "review", _("Review")
    APPROVE = "approve", _("Approve")
    VIEW_SENSITIVE = "view_sensitive", _("View sensitive fields")

    @property
    def bit(self) -> int:
        """This action's bit in a mask."""
        return BITS[self]


BITS: dict[str, int] = {action.value: 1 << index for index, action in enumerate(Action)}
ALL_ACTIONS = sum(BITS.values())
# Each action by its value (an Action member finds itself too: members are their values). A dict lookup
# where a call of Action(...) cost a microsecond per check on the check API's path.
ACTIONS: dict[str, Action] = {action.value: action for action in Action}


def mask_of(actions: Iterable[str]) -> int:
    """The bitmask of some actions (enum members or their values); refuses an unknown action."""
    mask = 0
    for action in actions:
        mask |= BITS[Action(action)]
    return mask


def actions_of(mask: int) -> list[Action]:
    """The actions of a bitmask, in vocabulary order."""
    return [action for action in Action if mask & BITS[action]]


class ModuleKind(models.TextChoices):
    """System modules protect the console itself; business modules hold the tenant's resources."""

    SYSTEM = "system", _("System")
    BUSINESS = "business", _("Business")
    CUSTOM = "custom", _("Custom")


class SystemModule(models.TextChoices):
    """The console's own modules: the console is protected by the same engine."""

    USERS = "users", _("Users")
    ROLES = "roles", _("Roles")
    GROUPS = "groups", _("Groups")
    GRANTS = "grants", _("Grants")
    MODULES = "modules", _("Modules and resources")
    AUDIT = "audit", _("Audit trail")
    REVIEWS = "reviews", _("Access reviews")
    REQUESTS = "requests", _("Access requests")
    SETTINGS = "settings", _("Settings")


class BusinessModule(models.TextChoices):
    """Business modules every tenant starts with (tenants add custom ones)."""

    PRODUCTS = "products", _("Products")
    REPORTS = "reports", _("Reports")
    ANALYTICS = "analytics", _("Analytics")


A = Action
_CRUD = (A.VIEW, A.CREATE, A.CHANGE, A.DELETE)
#: Actions that apply to each system module.
SYSTEM_ACTIONS: dict[str, tuple[Action, ...]] = {
    SystemModule.USERS: (*_CRUD, A.EXPORT),
    SystemModule.ROLES: _CRUD,
    SystemModule.GROUPS: _CRUD,
    SystemModule.GRANTS: (A.VIEW, A.CREATE, A.DELETE, A.APPROVE),
    SystemModule.MODULES: _CRUD,
    SystemModule.AUDIT: (A.VIEW, A.EXPORT),
    SystemModule.REVIEWS: (A.VIEW, A.CREATE, A.CHANGE, A.REVIEW),
    SystemModule.REQUESTS: (A.VIEW, A.CREATE, A.APPROVE),
    SystemModule.SETTINGS: (A.VIEW, A.CHANGE),
}
#: Actions that apply to business (and, by default, custom) modules.
BUSINESS_ACTIONS: tuple[Action, ...] = (*_CRUD, A.EXPORT, A.VIEW_SENSITIVE)

#: Sensitive attribute names of the seeded business modules.
BUSINESS_SENSITIVE: dict[str, list[str]] = {
    BusinessModule.PRODUCTS: ["cost_price", "supplier"],
    BusinessModule.REPORTS: ["revenue"],
    BusinessModule.ANALYTICS: ["customer_emails"],
}

#: Masks of the built-in roles' matrices: module key → actions.
BUILTIN_MATRICES: dict[str, dict[str, tuple[Action, ...]]] = {
    "basic": {BusinessModule.PRODUCTS: (A.VIEW,)},
    "advanced": {module: (A.VIEW, A.EXPORT) for module in BusinessModule},
    "administrator": {
        **{module: BUSINESS_ACTIONS for module in BusinessModule},
        **SYSTEM_ACTIONS,
    },
}

SYSTEM_MODULE_KEYS = frozenset(SystemModule.values)
