"""Tenants and their users."""

from __future__ import annotations

import ipaddress
import re
import zoneinfo

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models, transaction
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.scoping import TenantManager, TenantQuerySet, dangerously_unscoped


def validate_timezone(value: str) -> None:
    """Refuse a name that is not an IANA time zone."""
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("%(value)s is not a known time zone."), params={"value": value})


def lines(value: str) -> list[str]:
    """The non-empty lines of a list setting, stripped and lower-cased."""
    return [line.strip().lower() for line in (value or "").splitlines() if line.strip()]


_DOMAIN = re.compile(r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def validate_domains(value: str) -> None:
    """Every line is a domain name."""
    bad = [line for line in lines(value) if not _DOMAIN.match(line)]
    if bad:
        raise ValidationError(_("Not a domain name: %(value)s."), params={"value": ", ".join(bad[:3])})


def networks(value: str) -> list:
    """The address ranges of a list setting (``ipaddress`` networks; a bare address is a /32 or /128)."""
    return [ipaddress.ip_network(line, strict=False) for line in lines(value)]


def validate_networks(value: str) -> None:
    """Every line is an IPv4 or IPv6 address or range."""
    bad = []
    for line in lines(value):
        try:
            ipaddress.ip_network(line, strict=False)
        except ValueError:
            bad.append(line)
    if bad:
        raise ValidationError(_("Not an address range: %(value)s."), params={"value": ", ".join(bad[:3])})


def validate_dormancy_days(value: int) -> None:
    """0 (off), or between 30 and 730 days."""
    if value and not 30 <= value <= 730:
        raise ValidationError(_("Choose 0 (off) or between 30 and 730 days."))


class Tenant(models.Model):
    """An enterprise using the portal. Every other business row belongs to exactly one tenant."""

    class MfaPolicy(models.TextChoices):
        EVERYONE = "everyone", _("Required for everyone")
        PRIVILEGED = "privileged", _("Required for administrators and reviewers")

    class ReviewCadence(models.TextChoices):
        MONTHLY = "monthly", _("Monthly")
        QUARTERLY = "quarterly", _("Quarterly")
        HALF_YEARLY = "half_yearly", _("Half-yearly")
        YEARLY = "yearly", _("Yearly")

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(
        _("slug"),
        max_length=50,
        unique=True,
        validators=[RegexValidator(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$", _("Use lowercase letters, digits and -."))],
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    # Settings, each with a safe default.
    mfa_policy = models.CharField(_("MFA policy"), max_length=20, choices=MfaPolicy.choices, default=MfaPolicy.EVERYONE)
    # accounts.passkeys.policy: administrators and reviewers sign in with a passkey (phishing-resistant MFA).
    passkeys_for_administrators = models.BooleanField(
        _("administrators and reviewers must use a passkey"),
        default=False,
        help_text=_("Phishing-resistant MFA: an authenticator app or a backup code is not enough for them."),
    )
    session_idle_minutes = models.PositiveIntegerField(
        _("session idle timeout (minutes)"), default=30, validators=[MinValueValidator(5), MaxValueValidator(720)]
    )
    review_cadence = models.CharField(
        _("default review cadence"), max_length=20, choices=ReviewCadence.choices, default=ReviewCadence.QUARTERLY
    )
    review_duration_days = models.PositiveIntegerField(
        _("default review duration (days)"), default=14, validators=[MinValueValidator(1), MaxValueValidator(90)]
    )
    request_max_days = models.PositiveIntegerField(
        _("longest access request (days)"), default=90, validators=[MinValueValidator(1), MaxValueValidator(365)]
    )
    time_zone = models.CharField(_("time zone"), max_length=64, default="UTC", validators=[validate_timezone])
    # The shortest password (accounts.passwords); not named "password_…": audit values never carry such keys.
    credential_min_length = models.PositiveIntegerField(
        _("shortest password"), default=12, validators=[MinValueValidator(12), MaxValueValidator(64)]
    )
    invitation_domains = models.TextField(
        _("e-mail domains allowed for invitations"),
        blank=True,
        default="",
        validators=[validate_domains],
        help_text=_("One domain a line (e.g. example.com); empty: any domain."),
    )
    # Dormant accounts (dormancy/): a customer without a login for this many days is deactivated, after a warning
    # sent this many days before; 0 turns the policy off. Not named "…login…": audit keys stay plain.
    dormancy_days = models.PositiveIntegerField(
        _("deactivate customers after this many days without a login"),
        default=90,
        validators=[validate_dormancy_days],
        help_text=_("0 turns the policy off; otherwise between 30 and 730 days."),
    )
    dormancy_warning_days = models.PositiveIntegerField(
        _("warn dormant customers this many days before"),
        default=14,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
    )
    # Appeals and complaints (appeals/): the time an approver has to answer a customer's case.
    appeal_due_days = models.PositiveIntegerField(
        _("answer appeals within (working days)"), default=3, validators=[MinValueValidator(1), MaxValueValidator(30)]
    )
    console_networks = models.TextField(
        _("client address ranges allowed on the console"),
        blank=True,
        default="",
        validators=[validate_networks],
        help_text=_("One address or range a line (e.g. 203.0.113.0/24 or 2001:db8::/32); empty: any address."),
    )

    class Meta:
        verbose_name = _("tenant")
        verbose_name_plural = _("tenants")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(session_idle_minutes__gte=5) & Q(session_idle_minutes__lte=720),
                name="tenant_idle_timeout_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        super().clean()
        if self.dormancy_days and self.dormancy_warning_days >= self.dormancy_days:
            raise ValidationError({"dormancy_warning_days": _("The warning must come before the deactivation.")})


#: What decides a user's permissions besides their grants: a change to any of them bumps the tenant's
#: authorization version (permissions.versioning), so every process forgets what it remembered of the user
#: (the check API keeps subjects in memory while the version holds).
AUTHZ_FIELDS = ("tenant_id", "role_id", "is_active", "organisation_id")
_UNKNOWN = object()
_AUTHZ_UPDATE_KEYS = {"tenant", "tenant_id", "role", "role_id", "is_active", "organisation", "organisation_id"}


def bump_authorization(*tenant_ids) -> None:
    from permissions.versioning import bump

    for tenant_id in {t for t in tenant_ids if t}:
        bump(tenant_id)


class UserQuerySet(TenantQuerySet):
    """Bulk writes that touch a user's tenant, role or activity bump the tenants concerned."""

    def update(self, **kwargs):
        if not _AUTHZ_UPDATE_KEYS & set(kwargs):
            return super().update(**kwargs)
        # The change and the version bump commit together (see permissions.versioning).
        with transaction.atomic(using=self.db):
            tenants = [*self.values_list("tenant_id", flat=True).distinct(), *self._new_tenants(kwargs)]
            count = super().update(**kwargs)
            bump_authorization(*tenants)
        return count

    def bulk_update(self, objs, fields, batch_size=None):
        objs = list(objs)
        if not _AUTHZ_UPDATE_KEYS & set(fields):
            return super().bulk_update(objs, fields, batch_size=batch_size)
        with transaction.atomic(using=self.db):
            old = self.model._base_manager.filter(pk__in=[o.pk for o in objs]).values_list("tenant_id", flat=True)
            tenants = [*old, *(o.tenant_id for o in objs)]
            count = super().bulk_update(objs, fields, batch_size=batch_size)
            bump_authorization(*tenants)
        return count

    @staticmethod
    def _new_tenants(kwargs) -> list:
        value = kwargs.get("tenant_id", kwargs.get("tenant"))
        return [getattr(value, "pk", value)] if value is not None else []


class UserManager(TenantManager, BaseUserManager):
    """Tenant-scoped like every tenant-owned manager, plus the constructors Django's auth expects."""

    use_in_migrations = False
    _queryset_class = UserQuerySet

    def get_by_natural_key(self, username):
        # E-mails are unique per tenant (and among operators): the one account of this address, wherever it is
        # (MultipleObjectsReturned when several tenants have it; the login uses accounts_for_login instead).
        with dangerously_unscoped():
            return self.get(**{self.model.USERNAME_FIELD: self.normalize_email(username).lower()})

    def accounts_for_login(self, email: str, tenant_slug: str = "") -> list:
        """Every account of ``email`` (in the tenant ``tenant_slug`` only, when given), before any tenant is
        known: the login's one deliberate cross-tenant read."""
        with dangerously_unscoped():
            found = self.select_related("tenant", "role").filter(email=self.normalize_email(email).lower())
            if tenant_slug:
                found = found.filter(tenant__slug=tenant_slug.strip().lower())
            return list(found.order_by("pk")[:20])

    def create_user(self, email: str, password: str | None = None, *, tenant, **fields) -> User:
        """A tenant user. Use accounts.services.create_user in application code (it audits)."""
        user = self.model(email=self.normalize_email(email).lower(), tenant=tenant, **fields)
        user.set_password(password)
        user.full_clean(exclude=["password", "role"], validate_unique=False, validate_constraints=False)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields) -> User:
        """A platform operator: no tenant, Django admin only."""
        fields.update(is_staff=True, is_superuser=True, tenant=None, role=None)
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user


class User(AbstractBaseUser, PermissionsMixin):
    """A login. Tenant users belong to exactly one tenant and hold one role; operators have neither."""

    # Unique per tenant, not per platform (issue 13): another tenant's users are never visible through an
    # "already taken". Operators' e-mails are unique among operators.
    email = models.EmailField(_("email"))
    full_name = models.CharField(_("full name"), max_length=200, blank=True)
    tenant = models.ForeignKey(
        Tenant, verbose_name=_("tenant"), on_delete=models.PROTECT, null=True, blank=True, related_name="users"
    )
    role = models.ForeignKey(
        "permissions.Role",
        verbose_name=_("role"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
    )
    organisation = models.ForeignKey(
        "accounts.Organisation",
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="members",
    )
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(_("platform operator"), default=False)
    date_joined = models.DateTimeField(_("joined"), default=timezone.now)
    language = models.CharField(_("language"), max_length=10, blank=True, default="")
    # Dates are shown in this zone (issue 19); empty: the tenant's.
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True, default="", validators=[validate_timezone])
    # SCIM (RFC 7643 §4.1): the identity provider's own id, the userName it sent when that is not the login
    # address, and the name's parts. Empty when the user was not provisioned so.
    external_id = models.CharField(_("external id"), max_length=255, blank=True, default="")
    scim_user_name = models.CharField(_("SCIM user name"), max_length=255, blank=True, default="")
    given_name = models.CharField(_("given name"), max_length=100, blank=True, default="")
    family_name = models.CharField(_("family name"), max_length=100, blank=True, default="")
    # Deleted by the identity provider (SCIM DELETE): deactivated, and no longer a SCIM resource (a 404).
    scim_deleted = models.BooleanField(_("deleted by the identity provider"), default=False)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["email"]
        indexes = [
            models.Index(fields=["tenant", "email"], name="user_tenant_email"),
            # SCIM's userName eq "…" (case-insensitive): one index lookup, not a scan of the tenant's users
            models.Index(F("tenant"), Lower("scim_user_name"), name="user_tenant_scim_user_name_ci"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "email"], name="user_tenant_email_unique"),
            models.UniqueConstraint(
                fields=["email"], condition=Q(tenant__isnull=True), name="user_operator_email_unique"
            ),
            models.UniqueConstraint(
                fields=["tenant", "external_id"], condition=~Q(external_id=""), name="user_tenant_external_id_unique"
            ),
            models.UniqueConstraint(
                fields=["tenant", "scim_user_name"],
                condition=~Q(scim_user_name=""),
                name="user_tenant_scim_user_name_unique",
            ),
            # A platform operator has no tenant and no role; a tenant user is never staff.
            models.CheckConstraint(
                condition=(Q(tenant__isnull=True, is_staff=True, role__isnull=True))
                | Q(tenant__isnull=False, is_staff=False, is_superuser=False),
                name="user_tenant_or_operator",
            ),
        ]

    def __str__(self) -> str:
        return self.full_name or self.email

    @property
    def shown_time_zone(self) -> str:
        """The zone the user's dates are shown in: their own choice, else their tenant's, else UTC."""
        return self.time_zone or (self.tenant.time_zone if self.tenant_id else "") or "UTC"

    @classmethod
    def from_db(cls, db, field_names, values):
        user = super().from_db(db, field_names, values)
        user._authz_saved = user._authz_state()
        return user

    def _authz_state(self) -> tuple:
        """(tenant, role, active) as held in memory; a field not loaded reads as unknown."""
        return tuple(self.__dict__.get(name, _UNKNOWN) for name in AUTHZ_FIELDS)

    def save(self, *args, **kwargs):
        """Save; when the tenant, role or activity of an existing user changed, bump the authorization
        version of the tenants concerned (a database row, permissions.versioning): in this process now,
        everywhere once it commits."""
        before = getattr(self, "_authz_saved", None)
        # A new row (no id yet) cannot be remembered anywhere: no process holds anything of it to forget.
        inserting = self._state.adding and self.pk is None
        super().save(*args, **kwargs)
        after = self._authz_state()
        if not inserting and (before is None or before != after or _UNKNOWN in after):
            bump_authorization(before[0] if before and before[0] is not _UNKNOWN else None, self.tenant_id)
        self._authz_saved = after

    @property
    def display_name(self) -> str:
        """The name shown in the portal."""
        return self.full_name or self.email

    @property
    def is_operator(self) -> bool:
        """A platform operator (Django admin only, no tenant)."""
        return self.tenant_id is None and self.is_superuser

    def clean(self):
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email).lower()
        if self.role_id and self.tenant_id and self.role.tenant_id != self.tenant_id:
            raise ValidationError({"role": _("Choose a role of this tenant.")})


# Models defined in their own modules, registered with the accounts app here.
from accounts.auth_models import EmailToken, UserSession  # noqa: E402
from accounts.mfa.models import BackupCode, BackupCodeDevice, TotpDevice  # noqa: E402
from accounts.operators import OperatorTotpDevice  # noqa: E402
from accounts.organisations import Organisation  # noqa: E402
from accounts.passkeys.models import Passkey  # noqa: E402
from accounts.profiles import CustomerProfile  # noqa: E402

__all__ = [
    "BackupCode",
    "BackupCodeDevice",
    "CustomerProfile",
    "EmailToken",
    "OperatorTotpDevice",
    "Organisation",
    "Passkey",
    "Tenant",
    "TotpDevice",
    "User",
    "UserManager",
    "UserSession",
]
