"""The console's menu entry for dormant accounts (holders of users: view)."""

from django.utils.translation import gettext_lazy as _

from permissions.vocabulary import Action, SystemModule
from portal.navigation import NavEntry, permitted, register

register(NavEntry(_("Dormant accounts"), "dormancy:overview", permitted(SystemModule.USERS, Action.VIEW), "console"))
