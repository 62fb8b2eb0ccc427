"""Menu entry of the approvers' queue of cases (customers reach their cases from My access)."""

from django.utils.translation import gettext_lazy as _

from appeals.rules import may_handle_anything
from portal.navigation import NavEntry, register


def _handler(user) -> bool:
    return bool(getattr(user, "tenant_id", None)) and may_handle_anything(user)


register(NavEntry(_("Appeals"), "appeals:queue", _handler))
