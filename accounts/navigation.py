"""Menu entries of the accounts app."""

from django.utils.translation import gettext_lazy as _

from portal.navigation import NavEntry, register


def _tenant_user(user) -> bool:
    return bool(getattr(user, "tenant_id", None))


register(NavEntry(_("Security"), "accounts:security", _tenant_user, section="account"))
register(NavEntry(_("Preferences"), "accounts:preferences", _tenant_user, section="account"))
