"""A tenant's identity providers (OpenID Connect or SAML 2.0), the accounts they sign in, the provider's MFA as a
device, and the SAML requests and assertions a provider's answers are checked against (single use).

Every row belongs to one tenant (``TenantManager``): a provider is only ever found inside its tenant's scope,
so a provider of tenant A can neither see nor sign in a user of tenant B.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.mfa.models import TenantDevice
from accounts.models import lines, validate_domains
from accounts.scoping import TenantManager
from vault.fields import EncryptedTextField

#: The amr / acr values that stand for a multi-factor login at the provider (RFC 8176), unless the tenant lists others.
DEFAULT_MFA_VALUES = "mfa\nhwk\nswk\notp\nsc\nfpt\nface"
#: The SAML authentication context classes (and Entra's and REFEDS' values) that stand for a multi-factor login.
SAML_MFA_VALUES = "\n".join(
    [
        "urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorContract",
        "urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorUnregistered",
        "urn:oasis:names:tc:SAML:2.0:ac:classes:TimeSyncToken",
        "http://schemas.microsoft.com/claims/multipleauthn",
        "https://refeds.org/profile/mfa",
    ]
)
SLUG = RegexValidator(r"^[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?$", _("Use lowercase letters, digits and -."))


class IdentityProvider(models.Model):
    """One identity provider of one tenant (OpenID Connect or SAML 2.0): where it is, how the portal is known to
    it, and who its users become here (a default role, and group → role / organisation mappings applied at every
    login)."""

    class Protocol(models.TextChoices):
        OIDC = "oidc", _("OpenID Connect")
        SAML = "saml", _("SAML 2.0")

    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="+")
    uid = models.UUIDField(default=uuid.uuid4, editable=False)  # binds the encrypted secret to this row
    slug = models.CharField(_("short name"), max_length=50, validators=[SLUG])
    name = models.CharField(_("name"), max_length=100)
    enabled = models.BooleanField(_("enabled"), default=True)
    protocol = models.CharField(_("protocol"), max_length=10, choices=Protocol.choices, default=Protocol.OIDC)
    # OpenID Connect
    issuer = models.URLField(_("issuer"), max_length=300, blank=True, default="")
    client_id = models.CharField(_("client id"), max_length=200, blank=True, default="")
    client_secret = EncryptedTextField(_("client secret"))
    scopes = models.CharField(_("scopes"), max_length=300, default="openid email profile")
    email_domains = models.TextField(
        _("e-mail domains"),
        blank=True,
        default="",
        validators=[validate_domains],
        help_text=_("One domain a line: addresses of these domains are sent to this provider at login."),
    )
    # SAML 2.0: the identity provider's metadata (pasted, or read from its URL when saved) and what it names
    saml_metadata = models.TextField(_("SAML metadata of the identity provider"), blank=True, default="")
    saml_metadata_url = models.URLField(_("SAML metadata URL"), max_length=500, blank=True, default="")
    saml_entity_id = models.CharField(_("entity id of the identity provider"), max_length=500, blank=True, default="")
    email_attribute = models.CharField(_("e-mail attribute"), max_length=200, blank=True, default="email")
    name_attribute = models.CharField(_("name attribute"), max_length=200, blank=True, default="displayName")
    default_role = models.ForeignKey(
        "permissions.Role", verbose_name=_("default role"), on_delete=models.PROTECT, related_name="+"
    )
    groups_claim = models.CharField(_("groups claim"), max_length=100, default="groups")
    #: [{"group": "<value of the groups claim>", "role": "<role key>" or "", "organisation": <id> or null}, …]
    mappings = models.JSONField(_("group mappings"), default=list, blank=True)
    provider_mfa = models.BooleanField(
        _("the provider's MFA satisfies the MFA policy"),
        default=False,
        help_text=_("When the provider's amr or acr names a multi-factor login, no second factor is asked here."),
    )
    mfa_values = models.TextField(_("amr / acr values meaning MFA"), default=DEFAULT_MFA_VALUES, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = TenantManager()

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("identity provider")
        verbose_name_plural = _("identity providers")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "slug"], name="sso_provider_tenant_slug_unique"),
            models.UniqueConstraint(fields=["tenant", "uid"], name="sso_provider_uid_unique"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_saml(self) -> bool:
        return self.protocol == self.Protocol.SAML

    @property
    def method(self) -> str:
        """How a login through this provider is named in the audit log and the login history."""
        return f"{self.protocol}:{self.slug}"

    def domains(self) -> list[str]:
        return lines(self.email_domains)

    def mfa_value_set(self) -> set[str]:
        return set(lines(self.mfa_values))


class ExternalIdentity(models.Model):
    """The provider's subject (``sub``) of a user: the one key a provider's login is matched by."""

    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="+")
    provider = models.ForeignKey(IdentityProvider, on_delete=models.CASCADE, related_name="identities")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    subject = models.CharField(_("subject"), max_length=255)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    last_login_at = models.DateTimeField(null=True, blank=True)

    objects = TenantManager()

    class Meta:
        verbose_name = _("external identity")
        verbose_name_plural = _("external identities")
        constraints = [
            models.UniqueConstraint(fields=["provider", "subject"], name="sso_identity_provider_subject_unique"),
        ]


class ProviderMfaDevice(TenantDevice):
    """The provider's own multi-factor login, standing as the user's MFA for the session it opened (only when
    the tenant says the provider's amr/acr counts). It never accepts a code typed here."""

    provider = models.ForeignKey(IdentityProvider, on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name = _("identity provider MFA")
        verbose_name_plural = _("identity provider MFA")
        constraints = [models.UniqueConstraint(fields=["user", "provider"], name="sso_mfa_device_user_provider")]

    def verify_token(self, token):
        return False


class SsoPolicy(models.Model):
    """The tenant's rule: everyone signs in through an identity provider, except the break-glass administrators
    named here (password and authenticator, for the day the provider is down)."""

    tenant = models.OneToOneField("accounts.Tenant", on_delete=models.CASCADE, related_name="+")
    require_sso = models.BooleanField(_("require single sign-on"), default=False)
    break_glass = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("break-glass administrators"), blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)

    objects = TenantManager()

    class Meta:
        verbose_name = _("single sign-on policy")
        verbose_name_plural = _("single sign-on policies")


class SamlRequest(models.Model):
    """An authentication request the portal sent to a SAML identity provider (its id signed by the portal,
    ``sso.saml.new_request_id``), written once an answer to it passed every check: a request is answered once.
    The checked answer waits here (``claims``) until the browser that started the sign-in takes it (its session
    names the request); the claims are dropped then."""

    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="+")
    provider = models.ForeignKey(IdentityProvider, on_delete=models.CASCADE, related_name="+")
    request_id = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)
    answered_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    claims = models.JSONField(null=True, blank=True)

    objects = TenantManager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["provider", "request_id"], name="sso_saml_request_unique")]


class SamlAssertion(models.Model):
    """The id of an assertion a provider's answer carried, kept until the assertion expires: an assertion is
    accepted once (replay)."""

    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="+")
    provider = models.ForeignKey(IdentityProvider, on_delete=models.CASCADE, related_name="+")
    assertion_id = models.CharField(max_length=200)
    expires_at = models.DateTimeField()

    objects = TenantManager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["provider", "assertion_id"], name="sso_saml_assertion_once")]
