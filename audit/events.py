"""The one vocabulary of audit event types. Add new types here (with a translatable label)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class EventType(models.TextChoices):
    # Authentication and sessions
    LOGIN_SUCCEEDED = "auth.login_succeeded", _("Login succeeded")
    LOGIN_FAILED = "auth.login_failed", _("Login failed")
    LOGOUT = "auth.logout", _("Logout")
    LOCKOUT = "auth.lockout", _("Account locked out")
    MFA_ENROLLED = "auth.mfa_enrolled", _("MFA factor enrolled")
    MFA_REMOVED = "auth.mfa_removed", _("MFA factor removed")
    MFA_FAILED = "auth.mfa_failed", _("MFA verification failed")
    MFA_RESET = "auth.mfa_reset", _("MFA reset by an administrator")
    BACKUP_CODE_USED = "auth.backup_code_used", _("Backup code used")
    BACKUP_CODES_REGENERATED = "auth.backup_codes_regenerated", _("Backup codes regenerated")
    STEP_UP = "auth.step_up", _("Step-up verification")
    SESSION_ENDED = "auth.session_ended", _("Session ended")
    PASSWORD_CHANGED = "auth.password_changed", _("Password changed")
    PASSWORD_RESET_REQUESTED = "auth.password_reset_requested", _("Password reset requested")
    PASSWORD_RESET = "auth.password_reset", _("Password reset")
    # Tenants and users
    TENANT_CREATED = "tenant.created", _("Tenant created")
    TENANT_SETTINGS_CHANGED = "tenant.settings_changed", _("Tenant settings changed")
    USER_CREATED = "user.created", _("User created")
    USER_INVITED = "user.invited", _("User invited")
    INVITATION_SENT = "user.invitation_sent", _("Invitation sent")
    INVITATION_ACCEPTED = "user.invitation_accepted", _("Invitation accepted")
    INVITATION_CANCELLED = "user.invitation_cancelled", _("Invitation cancelled")
    USER_CHANGED = "user.changed", _("User changed")
    USER_DEACTIVATED = "user.deactivated", _("User deactivated")
    USER_REACTIVATED = "user.reactivated", _("User reactivated")
    # Keys and encryption
    KEYS_REWRAPPED = "keys.rewrapped", _("Data keys re-wrapped under a new master key")
    DATA_KEY_ROTATED = "keys.data_key_rotated", _("Data key rotated")
    VALUES_REENCRYPTED = "keys.values_reencrypted", _("Values re-encrypted")
    TENANT_SHREDDED = "tenant.crypto_shredded", _("Tenant crypto-shredded")
    # Security events
    ACCESS_DENIED = "security.access_denied", _("Access denied")
    # The audit trail itself
    AUDIT_EXPORTED = "audit.exported", _("Audit log exported")
    AUDIT_WITNESSES_CHANGED = "audit.witnesses_changed", _("Audit witnesses changed")
    PERSONAL_DATA_ERASED = "audit.personal_data_erased", _("Personal data erased from the audit log")
    # Permissions: grants, roles, groups, modules, approvals
    GRANT_CREATED = "grant.created", _("Grant created")
    GRANT_REVOKED = "grant.revoked", _("Grant revoked")
    GRANT_EXPIRED = "grant.expired", _("Grant expired")
    ROLE_CREATED = "role.created", _("Role created")
    ROLE_RENAMED = "role.renamed", _("Role renamed")
    ROLE_DELETED = "role.deleted", _("Role deleted")
    ROLE_MATRIX_CHANGED = "role.matrix_changed", _("Role matrix changed")
    USER_ROLE_CHANGED = "user.role_changed", _("User's role changed")
    GROUP_CREATED = "group.created", _("Group created")
    GROUP_MEMBER_ADDED = "group.member_added", _("Group member added")
    GROUP_MEMBER_REMOVED = "group.member_removed", _("Group member removed")
    GROUP_OWNER_CHANGED = "group.owner_changed", _("Group owner changed")
    MODULE_CREATED = "module.created", _("Module created")
    MODULE_CHANGED = "module.changed", _("Module changed")
    RESOURCE_CREATED = "resource.created", _("Resource created")
    RESOURCE_CHANGED = "resource.changed", _("Resource changed")
    RESOURCE_OWNER_CHANGED = "resource.owner_changed", _("Resource owner changed")
    CHANGE_REQUESTED = "change.requested", _("Change awaiting approval")
    CHANGE_APPROVED = "change.approved", _("Change approved")
    CHANGE_REJECTED = "change.rejected", _("Change rejected")
    CHANGE_BREAK_GLASS = "change.break_glass", _("Change set to apply after a cooling-off period (sole administrator)")
    CHANGE_APPLIED_AFTER_COOLING_OFF = (
        "change.applied_after_cooling_off",
        _("Change applied after its cooling-off period"),
    )
    # Access requests (accessrequests/)
    REQUEST_SUBMITTED = "request.submitted", _("Access request submitted")
    REQUEST_EXTENSION_SUBMITTED = "request.extension_submitted", _("Extension of a grant requested")
    REQUEST_FIRST_APPROVAL = "request.first_approval", _("Access request approved once (second approver needed)")
    REQUEST_APPROVED = "request.approved", _("Access request approved")
    REQUEST_DENIED = "request.denied", _("Access request denied")
    REQUEST_EXPIRED = "request.expired", _("Access request expired undecided")
    REQUEST_CANCELLED = "request.cancelled", _("Access request cancelled")
    GRANT_EXPIRY_NOTICE = "grant.expiry_notice", _("Grant expiry notice sent")
    # Access reviews
    REVIEW_POLICY_CREATED = "review.policy_created", _("Review policy created")
    REVIEW_POLICY_CHANGED = "review.policy_changed", _("Review policy changed")
    REVIEW_CAMPAIGN_OPENED = "review.campaign_opened", _("Review campaign opened")
    REVIEW_CAMPAIGN_CLOSED = "review.campaign_closed", _("Review campaign closed")
    REVIEW_CAMPAIGN_APPLIED = "review.campaign_applied", _("Review campaign applied")
    REVIEW_CAMPAIGN_CANCELLED = "review.campaign_cancelled", _("Review campaign cancelled")
    REVIEW_DECIDED = "review.decided", _("Review decision")
    REVIEW_BULK_DECIDED = "review.bulk_decided", _("Review decisions in bulk")
    REVIEW_REASSIGNED = "review.reassigned", _("Review item reassigned")
    REVIEW_APPLY_FAILED = "review.apply_failed", _("Review decision could not be applied")
    REVIEW_APPLY_RETRIED = "review.apply_retried", _("Failed review decisions queued again")
    # API keys and provisioning
    API_KEY_CREATED = "api_key.created", _("API key created")
    API_KEY_REVOKED = "api_key.revoked", _("API key revoked")
    GROUP_RENAMED = "group.renamed", _("Group renamed")
    # Organisations and sharing rules (issue 16)
    ORGANISATION_CREATED = "organisation.created", _("Organisation created")
    ORGANISATION_RENAMED = "organisation.renamed", _("Organisation renamed")
    ORGANISATION_STATUS_CHANGED = "organisation.status_changed", _("Organisation suspended or reactivated")
    ORGANISATION_REPARENTED = "organisation.reparented", _("Organisation moved under another parent")
    USER_ORGANISATION_CHANGED = "user.organisation_changed", _("User's organisation changed")
    RESOURCE_ORGANISATION_CHANGED = "resource.organisation_changed", _("Resource's owner organisation changed")
    SHARING_RULE_CREATED = "sharing_rule.created", _("Sharing rule created")
    SHARING_RULE_DELETED = "sharing_rule.deleted", _("Sharing rule deleted")
    ROLE_ORGANISATION_ASSIGNABLE_CHANGED = (
        "role.organisation_assignable_changed",
        _("Whether organisations may assign a role changed"),
    )
