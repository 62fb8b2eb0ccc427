"""Menu entries of access intelligence: administrators (those who may view the security settings)."""

from django.utils.translation import gettext_lazy as _

from permissions.vocabulary import Action, SystemModule
from portal.navigation import NavEntry, permitted, register

register(
    NavEntry(
        _("Access intelligence"), "intelligence:outliers", permitted(SystemModule.SETTINGS, Action.VIEW), "console"
    )
)
