"""The one vocabulary of audit event types. Add new types here (with a translatable label)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class EventType(models.TextChoices):
    # Authentication and sessions
    LOGIN_SUCCEEDED = "auth.login_succeeded", _("Login succeeded")
    LOGIN_FAILED = "auth.login_failed", _("Login failed")
    LOGOUT = "auth.logout", _("Logout")
    LOCKOUT = "auth.lockout", _("Account locked out")
    # Tenants and users
    TENANT_CREATED = "tenant.created", _("Tenant created")
    TENANT_SETTINGS_CHANGED = "tenant.settings_changed", _("Tenant settings changed")
    USER_CREATED = "user.created", _("User created")
    USER_INVITED = "user.invited", _("User invited")
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
    PERSONAL_DATA_ERASED = "audit.personal_data_erased", _("Personal data erased from the audit log")
