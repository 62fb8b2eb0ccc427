"""Appeals and complaints: a customer's case about a denial, a revocation or missing access, and its conversation."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.scoping import TenantManager


class Case(models.Model):
    """One appeal or complaint of a customer, answered by the approvers before ``due_at``."""

    class Kind(models.TextChoices):
        DENIAL = "denial", _("A request of mine was denied")
        REVOCATION = "revocation", _("My access was taken away")
        MISSING = "missing", _("I cannot see what I should")

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        ANSWERED = "answered", _("Answered")
        RESOLVED = "resolved", _("Resolved")
        CLOSED = "closed", _("Closed")

    class Outcome(models.TextChoices):
        NONE = "", _("Not decided")
        GRANTED = "granted", _("Access granted")
        UPHELD = "upheld", _("Decision upheld")
        EXPLAINED = "explained", _("Explained, nothing to change")
        WITHDRAWN = "withdrawn", _("Withdrawn by the customer")

    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(_("about"), max_length=12, choices=Kind.choices)
    subject = models.CharField(_("subject"), max_length=200)
    module = models.ForeignKey(
        "permissions.Module",
        verbose_name=_("module"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    resource = models.ForeignKey(
        "permissions.Resource",
        verbose_name=_("resource"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    request = models.ForeignKey(
        "accessrequests.AccessRequest",
        verbose_name=_("access request"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    grant = models.ForeignKey(
        "permissions.Grant",
        verbose_name=_("grant concerned"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.OPEN)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices, default=Outcome.NONE, blank=True)
    created_at = models.DateTimeField(_("opened"), default=timezone.now)
    due_at = models.DateTimeField(_("answer due"))
    escalated_at = models.DateTimeField(_("escalated"), null=True, blank=True)
    answered_at = models.DateTimeField(_("first answered"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("resolved by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    # The grant this case produced (an approver granted from the case): the outcome, linked.
    result_grant = models.ForeignKey(
        "permissions.Grant",
        verbose_name=_("grant given"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = TenantManager()

    class Meta:
        verbose_name = _("appeal or complaint")
        verbose_name_plural = _("appeals and complaints")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["tenant", "state", "due_at"], name="case_tenant_state_due"),
            models.Index(fields=["tenant", "customer", "state"], name="case_tenant_customer"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk}"

    @property
    def is_live(self) -> bool:
        """Still waiting for an approver (open) or for the customer (answered)."""
        return self.state in (self.State.OPEN, self.State.ANSWERED)

    def is_overdue_at(self, when) -> bool:
        """Open (waiting for an approver) past its due time."""
        return self.state == self.State.OPEN and when >= self.due_at


class Message(models.Model):
    """One message of a case's conversation, by the customer or by an approver."""

    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="+")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    from_customer = models.BooleanField(default=False)
    body = models.TextField(_("message"))
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantManager()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["tenant", "case", "created_at"], name="casemessage_tenant_case")]

    def __str__(self) -> str:
        return f"{self.case_id}/{self.pk}"
