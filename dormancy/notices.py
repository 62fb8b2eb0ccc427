"""The dormancy notices' wording (in the reader's language) and where they point."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from accessrequests.models import Notice
from accessrequests.notify import _when, register_kind


def warning_text(params: dict) -> str:
    return _(
        "You have not logged in for %(days)s days. Your account will be deactivated on %(when)s unless you log in "
        "before then."
    ) % {"days": params.get("days"), "when": _when(params.get("when"))}


def deactivated_text(params: dict) -> str:
    return _(
        "Your account was deactivated on %(when)s after %(days)s days without a login. Ask your administrator if you "
        "need it again."
    ) % {"days": params.get("days"), "when": _when(params.get("when"))}


def _home(params: dict) -> str:
    return reverse("home")


def register_notices() -> None:
    """Word and link this app's notice kinds (AppConfig.ready)."""
    register_kind(Notice.Kind.DORMANCY_WARNING, warning_text, _home)
    register_kind(Notice.Kind.DORMANCY_DEACTIVATED, deactivated_text, _home)
