"""Use cases on a tenant's identity providers (OpenID Connect or SAML 2.0): create, change settings, change the group
mapping, delete.

Each runs in one transaction with its audit event (never the client secret, only that it changed). Who may:
whoever may change the tenant's settings. A mapping that would make a provider's users holders of console
rights (a role with system-module actions) is an escalation: it waits for a second administrator (four-eyes,
``permissions.services.changes``), as making someone an Administrator does; the default role may never be one.
"""

from __future__ import annotations

import hashlib

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

import audit
from accounts.organisations import Organisation
from audit.events import EventType
from permissions.models import PendingChange, Role
from permissions.services.changes import require_approver_holds
from permissions.services.checks import require, same_tenant
from permissions.services.errors import AccessRefused, ErrorCode
from permissions.services.escalation import role_escalates
from permissions.services.roles import matrix_of
from permissions.vocabulary import Action
from sso import endpoints, saml_metadata
from sso.models import DEFAULT_MFA_VALUES, SAML_MFA_VALUES, IdentityProvider, SsoPolicy

SETTINGS = ("name", "enabled", "issuer", "client_id", "scopes", "email_domains", "groups_claim", "provider_mfa")
SETTINGS += ("mfa_values", "saml_metadata", "saml_metadata_url", "email_attribute", "name_attribute")
MAX_MAPPINGS = 50


def _settings_of(provider: IdentityProvider) -> dict:
    values = {name: getattr(provider, name) for name in SETTINGS}
    values["default_role"] = provider.default_role.key if provider.default_role_id else None
    values["protocol"] = provider.protocol
    # The metadata document is long: the audit keeps its digest and the entity id it names.
    values["saml_metadata"] = (
        hashlib.sha256(provider.saml_metadata.encode()).hexdigest() if provider.saml_metadata else ""
    )
    values["saml_entity_id"] = provider.saml_entity_id
    return values


def _check_default_role(tenant_id, role: Role) -> None:
    same_tenant(tenant_id, role)
    if role_escalates(role):
        raise ValidationError({"default_role": _("The default role may not hold console rights: map a group to it.")})


def _check_issuer(provider: IdentityProvider) -> None:
    try:
        endpoints.check_url(provider.issuer)
    except endpoints.ProviderUnavailable as refused:
        raise ValidationError({"issuer": str(refused)}) from None


def _check_protocol(provider: IdentityProvider) -> None:
    """What the provider's protocol needs: an issuer and a client (OpenID Connect), or usable metadata (SAML,
    read again from its URL when one is given: a save picks up the provider's rotated certificate)."""
    if provider.is_saml:
        saml_metadata.check(provider)
        return
    missing = {name: _("This field is required.") for name in ("issuer", "client_id") if not getattr(provider, name)}
    if missing:
        raise ValidationError(missing)
    _check_issuer(provider)


@transaction.atomic
def create_provider(
    *,
    actor,
    tenant,
    slug: str,
    default_role: Role,
    client_secret: str = "",
    protocol: str = IdentityProvider.Protocol.OIDC,
    **settings,
) -> IdentityProvider:
    """A new provider of ``tenant``, OpenID Connect or SAML 2.0 (its mapping starts empty: ``set_mappings``)."""
    require(actor, Action.CHANGE, "settings")
    unknown = set(settings) - set(SETTINGS)
    if unknown:
        raise ValueError(f"unknown provider settings {sorted(unknown)}")
    _check_default_role(tenant.pk, default_role)
    if protocol == IdentityProvider.Protocol.SAML:
        if settings.get("mfa_values", DEFAULT_MFA_VALUES).strip() == DEFAULT_MFA_VALUES:
            settings["mfa_values"] = SAML_MFA_VALUES  # SAML names its MFA in authentication context classes
        client_secret = ""  # a SAML service provider here holds no secret: it reads signed answers
        if not settings.get("scopes"):
            settings.pop("scopes", None)  # an OpenID Connect setting: the default stays
    elif not client_secret:
        raise ValidationError({"client_secret": _("A client secret is required.")})
    provider = IdentityProvider(tenant=tenant, slug=slug, default_role=default_role, protocol=protocol, **settings)
    provider.client_secret = client_secret
    provider.full_clean(exclude=["client_secret"])
    _check_protocol(provider)
    provider.save()
    audit.record(
        EventType.SSO_PROVIDER_CREATED, tenant=tenant, actor=actor, target=provider, after=_settings_of(provider)
    )
    return provider


@transaction.atomic
def update_provider(
    provider: IdentityProvider,
    *,
    actor,
    default_role: Role | None = None,
    client_secret: str = "",
    reason: str = "",
    **changes,
) -> IdentityProvider:
    """Change a provider's settings; an empty ``client_secret`` keeps the stored one."""
    same_tenant(getattr(actor, "tenant_id", provider.tenant_id), provider)
    require(actor, Action.CHANGE, "settings")
    provider = IdentityProvider.objects.select_for_update().select_related("default_role").get(pk=provider.pk)
    unknown = set(changes) - set(SETTINGS)
    if unknown:
        raise ValueError(f"unknown provider settings {sorted(unknown)}")
    before = _settings_of(provider)
    for name, value in changes.items():
        setattr(provider, name, value)
    if default_role is not None and default_role.pk != provider.default_role_id:
        _check_default_role(provider.tenant_id, default_role)
        provider.default_role = default_role
    if provider.is_saml:
        client_secret = ""  # no secret for SAML
    if client_secret:
        provider.client_secret = client_secret
    provider.full_clean(exclude=["client_secret"])
    _check_protocol(provider)
    after = _settings_of(provider)
    if after == before and not client_secret:
        return provider
    provider.updated_at = timezone.now()
    provider.save()
    if provider.issuer:
        endpoints.forget(provider.issuer)
    changed = {key: after[key] for key in after if after[key] != before[key]}
    if client_secret:
        changed["client_secret"] = True  # that it changed; never the value (LOG-6)
    audit.record(
        EventType.SSO_PROVIDER_CHANGED,
        tenant=provider.tenant,
        actor=actor,
        target=provider,
        before={key: before[key] for key in changed if key in before},
        after=changed,
        reason=reason,
    )
    return provider


def clean_mappings(tenant_id, mappings) -> list[dict]:
    """The mapping as stored: ``[{"group", "role" (a role key or ""), "organisation" (an id or None)}]``, every
    role and organisation one of the tenant's; raises ValidationError naming what is wrong."""
    if not isinstance(mappings, list) or len(mappings) > MAX_MAPPINGS:
        raise ValidationError(_("At most %(count)d mappings.") % {"count": MAX_MAPPINGS})
    cleaned = []
    for item in mappings:
        group = str(item.get("group", "")).strip()[:200] if isinstance(item, dict) else ""
        role, organisation = str(item.get("role") or "").strip(), item.get("organisation") or None
        if not group or not (role or organisation):
            raise ValidationError(_("Each mapping names a group, and a role or an organisation."))
        if role and not Role.objects.filter(tenant_id=tenant_id, key=role).exists():
            raise ValidationError(_("Unknown role: %(role)s.") % {"role": role})
        if organisation and not Organisation.objects.filter(tenant_id=tenant_id, pk=organisation).exists():
            raise ValidationError(_("Unknown organisation: %(id)s.") % {"id": organisation})
        cleaned.append({"group": group, "role": role, "organisation": int(organisation) if organisation else None})
    return cleaned


def escalating_roles(old: list[dict], new: list[dict]) -> list[Role]:
    """The roles holding console rights that ``new`` maps a group to and ``old`` did not."""
    before = {(m["group"], m["role"]) for m in old if m.get("role")}
    keys = {m["role"] for m in new if m.get("role") and (m["group"], m["role"]) not in before}
    return [role for role in Role.objects.filter(key__in=keys) if role_escalates(role)]


@transaction.atomic
def set_mappings(provider: IdentityProvider, mappings, *, actor, reason: str = ""):
    """Replace the provider's group mapping. Returns the provider, or a PendingChange when the new mapping
    gives console rights it did not give before (a second administrator approves it)."""
    same_tenant(getattr(actor, "tenant_id", provider.tenant_id), provider)
    require(actor, Action.CHANGE, "settings")
    cleaned = clean_mappings(provider.tenant_id, mappings)
    provider = IdentityProvider.objects.select_for_update().get(pk=provider.pk)
    if cleaned == provider.mappings:
        return provider
    if actor is not None and escalating_roles(provider.mappings, cleaned):
        from permissions.services.changes import request_change

        return request_change(
            actor=actor,
            kind=PendingChange.Kind.SSO_MAPPING,
            payload={"provider": provider.pk, "mappings": cleaned, "before": provider.mappings},
            summary=f"{provider.method}: {len(cleaned)} group mappings",
            reason=reason,
        )
    return apply_mappings(provider, cleaned, actor=actor, reason=reason)


def apply_mappings(provider: IdentityProvider, mappings: list[dict], *, actor, reason: str = "", approved_by=None):
    """Write the mapping and its event (inside the caller's transaction)."""
    before = provider.mappings
    provider.mappings = mappings
    provider.updated_at = timezone.now()
    provider.save(update_fields=["mappings", "updated_at"])
    after = {"mappings": mappings}
    if approved_by is not None:
        after["approved_by"] = audit.person(approved_by)
    audit.record(
        EventType.SSO_MAPPING_CHANGED,
        tenant=provider.tenant,
        actor=actor,
        target=provider,
        before={"mappings": before},
        after=after,
        reason=reason,
    )
    return provider


def apply_pending_mapping(change: PendingChange, *, approver):
    """The approval of an ``sso_mapping`` change: the approver must hold what the mapped roles give (INS-3)."""
    provider = IdentityProvider.objects.select_for_update().get(pk=change.payload["provider"])
    mappings = clean_mappings(provider.tenant_id, change.payload["mappings"])
    for role in escalating_roles(change.payload.get("before", []), mappings):
        require_approver_holds(approver, matrix_of(role).items())
    return apply_mappings(provider, mappings, actor=change.requested_by, reason=change.reason, approved_by=approver)


@transaction.atomic
def delete_provider(provider: IdentityProvider, *, actor, reason: str = "") -> None:
    """Remove a provider; its users keep their accounts (and may log in with a password or another provider)."""
    same_tenant(getattr(actor, "tenant_id", provider.tenant_id), provider)
    require(actor, Action.CHANGE, "settings")
    audit.record(
        EventType.SSO_PROVIDER_DELETED,
        tenant=provider.tenant,
        actor=actor,
        target=provider,
        reason=reason,
        before=_settings_of(provider),
    )
    provider.delete()


def _check_break_glass(tenant, users) -> None:
    from permissions.services.escalation import holds_console_rights

    for user in users:
        same_tenant(tenant.pk, user)
        if not (user.is_active and holds_console_rights(user)):
            raise ValidationError(
                {"break_glass": _("%(user)s is not an active administrator.") % {"user": user.display_name}}
            )


@transaction.atomic
def set_policy(tenant, *, actor, require_sso: bool, break_glass, reason: str = "") -> SsoPolicy:
    """Require single sign-on of everyone but ``break_glass`` (active administrators, at least one, who keep
    their password and authenticator for the day the provider is down), or stop requiring it."""
    if actor is not None and actor.tenant_id != tenant.pk:
        raise AccessRefused(ErrorCode.CROSS_TENANT)
    require(actor, Action.CHANGE, "settings")
    break_glass = list(break_glass)
    _check_break_glass(tenant, break_glass)
    if require_sso and not break_glass:
        raise ValidationError({"break_glass": _("Name at least one break-glass administrator first.")})
    if require_sso and not IdentityProvider.objects.filter(enabled=True).exists():
        raise ValidationError({"require_sso": _("Add and enable an identity provider first.")})
    policy, _created = SsoPolicy.objects.select_for_update().get_or_create(tenant=tenant)
    before = {"require_sso": policy.require_sso, "break_glass": sorted(policy.break_glass.values_list("pk", flat=True))}
    after = {"require_sso": require_sso, "break_glass": sorted(user.pk for user in break_glass)}
    if before == after:
        return policy
    policy.require_sso = require_sso
    policy.updated_at = timezone.now()
    policy.save(update_fields=["require_sso", "updated_at"])
    policy.break_glass.set(break_glass)
    audit.record(
        EventType.SSO_POLICY_CHANGED,
        tenant=tenant,
        actor=actor,
        target=tenant,
        before={"require_sso": before["require_sso"], "break_glass": _people(before["break_glass"])},
        after={"require_sso": require_sso, "break_glass": [audit.person(user) for user in break_glass]},
        reason=reason,
    )
    return policy


def _people(user_ids) -> list:
    from accounts.models import User

    return [audit.person(user) for user in User.objects.filter(pk__in=user_ids).order_by("pk")]
