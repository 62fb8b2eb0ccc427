"""The console's menu entry for import and export (shown to holders of users: create)."""

from django.utils.translation import gettext_lazy as _

from permissions.vocabulary import Action, SystemModule
from portal.navigation import NavEntry, permitted, register

register(
    NavEntry(_("Import and export"), "integration:import", permitted(SystemModule.USERS, Action.CREATE), "console")
)
