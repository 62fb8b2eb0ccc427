"""Menu entry of the approval queue: shown to administrators and to owners of modules or resources."""

from django.utils.translation import gettext_lazy as _

from accessrequests.rules import may_approve_anything
from portal.navigation import NavEntry, register


def _approver(user) -> bool:
    return bool(getattr(user, "tenant_id", None)) and may_approve_anything(user)


register(NavEntry(_("Access requests"), "accessrequests:queue", _approver))
