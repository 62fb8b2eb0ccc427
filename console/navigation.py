"""Menu entries of the console: each one shown when the engine says the user may view that screen."""

from django.utils.translation import gettext_lazy as _

from permissions.vocabulary import Action, SystemModule
from portal import worklist
from portal.navigation import GOVERNANCE, NavEntry, permitted, register

register(NavEntry(_("Users"), "console:users", permitted(SystemModule.USERS, Action.VIEW), section="console"))
register(NavEntry(_("Roles"), "console:roles", permitted(SystemModule.ROLES, Action.VIEW), section="console"))
register(NavEntry(_("Groups"), "console:groups", permitted(SystemModule.GROUPS, Action.VIEW), section="console"))
register(NavEntry(_("Organisations"), "console:organisations", permitted(SystemModule.GROUPS, Action.VIEW), "console"))
register(NavEntry(_("Sharing rules"), "console:sharing_rules", permitted(SystemModule.GRANTS, Action.VIEW), "console"))
register(
    NavEntry(_("Separation of duties"), "console:sod_rules", permitted(SystemModule.GRANTS, Action.VIEW), "console")
)
register(
    NavEntry(_("Modules and resources"), "console:modules", permitted(SystemModule.MODULES, Action.VIEW), "console")
)
register(
    NavEntry(
        _("Pending approvals"),
        "console:approvals",
        worklist.sees_approvals,
        GOVERNANCE,
        count=worklist.pending_approvals,
    )
)
register(NavEntry(_("Security settings"), "console:settings", permitted(SystemModule.SETTINGS, Action.VIEW), "console"))
