"""Menu entries: the approval queue (administrators, owners of modules or resources) with what waits there,
and every user's own requests."""

from django.utils.translation import gettext_lazy as _

from accessrequests.rules import may_approve_anything
from portal import worklist
from portal.navigation import ACCOUNT, GOVERNANCE, NavEntry, register


def _tenant_user(user) -> bool:
    return bool(getattr(user, "tenant_id", None))


def _approver(user) -> bool:
    return bool(getattr(user, "tenant_id", None)) and may_approve_anything(user)


register(
    NavEntry(_("Access requests"), "accessrequests:queue", _approver, GOVERNANCE, count=worklist.requests_to_decide)
)
register(NavEntry(_("My requests"), "accessrequests:mine", _tenant_user, ACCOUNT))
