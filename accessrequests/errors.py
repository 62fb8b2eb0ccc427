"""Coded refusals of the access-request services."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class RequestCode(models.TextChoices):
    """Why an access-request service refused."""

    INVALID = "invalid", _("The request is not valid.")
    DUPLICATE = "duplicate", _("You already have a pending request for this.")
    ALREADY_HELD = "already_held", _("You already hold these permissions.")
    NOT_APPROVER = "not_approver", _("You cannot decide this request.")
    SELF_APPROVAL = "self_approval", _("Nobody can approve their own request.")
    SAME_APPROVER = "same_approver", _("A second, different approver must approve this request.")
    OUT_OF_SCOPE = "out_of_scope", _("You cannot give permissions you do not hold yourself.")
    ALREADY_DECIDED = "already_decided", _("This request was already decided.")
    EXPIRED = "expired", _("This request expired before anyone decided it.")


class RequestRefused(Exception):
    """A refused submission or decision; ``existing`` is the pending request a duplicate points to."""

    def __init__(self, code: RequestCode, message: str = "", *, existing=None):
        self.code = RequestCode(code)
        self.existing = existing
        super().__init__(str(message or self.code.label))
