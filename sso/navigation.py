"""The console's menu entry for identity providers (shown to holders of settings: view)."""

from django.utils.translation import gettext_lazy as _

from permissions.vocabulary import Action, SystemModule
from portal.navigation import NavEntry, permitted, register

register(NavEntry(_("Single sign-on"), "sso_console:list", permitted(SystemModule.SETTINGS, Action.VIEW), "console"))
