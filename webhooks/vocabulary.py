"""The event types a subscription may choose, and the audit events each one is made from."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from audit.events import EventType


class WebhookEventType(models.TextChoices):
    GRANT_CREATED = "grant.created", _("Grant created")
    GRANT_REVOKED = "grant.revoked", _("Grant revoked")
    GRANT_EXPIRED = "grant.expired", _("Grant expired")
    ROLE_CHANGED = "role.changed", _("Role changed (created, renamed, matrix changed, deleted)")
    USER_ROLE_CHANGED = "user.role_changed", _("User's role changed")
    REQUEST_DECIDED = "request.decided", _("Access request decided")
    REVIEW_APPLIED = "review.applied", _("Access review applied")
    USER_DEACTIVATED = "user.deactivated", _("User deactivated")
    CHECKPOINT_COSIGNED = "checkpoint.cosigned", _("Audit checkpoint cosigned by its witnesses")


#: audit event type → the webhook event type it is delivered as (audit events not named here are not sent).
FROM_AUDIT: dict[str, WebhookEventType] = {
    EventType.GRANT_CREATED: WebhookEventType.GRANT_CREATED,
    EventType.GRANT_REVOKED: WebhookEventType.GRANT_REVOKED,
    EventType.GRANT_EXPIRED: WebhookEventType.GRANT_EXPIRED,
    EventType.ROLE_CREATED: WebhookEventType.ROLE_CHANGED,
    EventType.ROLE_RENAMED: WebhookEventType.ROLE_CHANGED,
    EventType.ROLE_MATRIX_CHANGED: WebhookEventType.ROLE_CHANGED,
    EventType.ROLE_DELETED: WebhookEventType.ROLE_CHANGED,
    EventType.USER_ROLE_CHANGED: WebhookEventType.USER_ROLE_CHANGED,
    EventType.REQUEST_APPROVED: WebhookEventType.REQUEST_DECIDED,
    EventType.REQUEST_DENIED: WebhookEventType.REQUEST_DECIDED,
    EventType.REVIEW_CAMPAIGN_APPLIED: WebhookEventType.REVIEW_APPLIED,
    EventType.USER_DEACTIVATED: WebhookEventType.USER_DEACTIVATED,
}
