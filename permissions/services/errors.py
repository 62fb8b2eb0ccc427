"""Coded refusals of the permission services (Saleor-style error codes)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ErrorCode(models.TextChoices):
    """Why a permission service refused."""

    NOT_ALLOWED = "not_allowed", _("You are not allowed to do this.")
    SELF_GRANT = "self_grant", _("Nobody can grant themselves anything.")
    SELF_ROLE = "self_role", _("Nobody can change their own role or its matrix.")
    SELF_APPROVAL = "self_approval", _("Nobody can approve their own change.")
    OUT_OF_SCOPE = "out_of_scope", _("You cannot give permissions you do not hold yourself.")
    CROSS_TENANT = "cross_tenant", _("That belongs to another tenant.")
    INVALID = "invalid", _("The change is not valid.")
    ROLE_IN_USE = "role_in_use", _("The role is still held by someone.")
    BUILTIN = "builtin", _("Built-in roles cannot be changed this way.")
    ALREADY_DECIDED = "already_decided", _("This change was already decided.")
    OUTRANKED = "outranked", _("You cannot act on a user who holds rights you do not hold yourself.")
    LAST_ADMINISTRATOR = "last_administrator", _("Refused: the tenant would be left without an active administrator.")
    APPROVER_LACKS = "approver_lacks", _("You cannot approve a change that gives rights you do not hold yourself.")
    SOD_CONFLICT = "sod_conflict", _("Refused by a separation-of-duties rule.")
    SOD_EXCEPTION_NEEDED = (
        "sod_exception_needed",
        _(
            "A separation-of-duties rule allows this only as an exception: give a justification for a second "
            "administrator to approve."
        ),
    )
    TRAINING_REQUIRED = "training_required", _("A required security lesson has not been completed.")


#: Refusals whose detail (the rule, the lesson) is the message shown to people.
DETAILED = frozenset({"invalid", "sod_conflict", "sod_exception_needed", "training_required"})


class AccessRefused(Exception):
    """A refused permission change, with a code and (for out-of-scope) the missing permissions."""

    def __init__(self, code: ErrorCode, message: str = "", *, missing: list | None = None, link: str = ""):
        self.code = ErrorCode(code)
        self.missing = missing or []
        self.link = link  # a page that lifts the refusal (the lesson to complete)
        super().__init__(str(message or self.code.label))
