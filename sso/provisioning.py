"""Who a provider's login is here: the linked account, or a new one (just-in-time), with the provider's
group mapping applied at every login through the audited services (role, organisation).

Everything runs inside the provider's tenant scope: the account is looked up among that tenant's users only,
so a provider can never sign in a user of another tenant.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from accounts import services as account_services
from accounts.models import User
from accounts.organisations import Organisation
from permissions.models import Role
from permissions.services.errors import AccessRefused
from permissions.services.organisations import set_user_organisation
from permissions.services.roles import apply_role_change
from sso.models import ExternalIdentity
from sso.refusals import Refusal, SsoRefused

log = logging.getLogger(__name__)


def groups_of(provider, claims: dict) -> set[str]:
    """The values of the provider's groups claim (a list of strings, or one string)."""
    value = claims.get(provider.groups_claim)
    if isinstance(value, str):
        return {value}
    if isinstance(value, list):
        return {item for item in value if isinstance(item, str)}
    return set()


def mapped_role(provider, groups: set[str]) -> Role:
    """The role of the first mapping whose group the user is in; else the provider's default role."""
    for mapping in provider.mappings or []:
        if mapping.get("group") in groups and mapping.get("role"):
            role = Role.objects.filter(key=mapping["role"]).first()
            if role is not None:
                return role
    return provider.default_role


def mapped_organisation(provider, groups: set[str]) -> tuple[bool, Organisation | None]:
    """(whether the provider maps organisations at all, the organisation of the first matching mapping)."""
    maps = [m for m in provider.mappings or [] if m.get("organisation")]
    for mapping in maps:
        if mapping.get("group") in groups:
            return True, Organisation.objects.filter(pk=mapping["organisation"]).first()
    return bool(maps), None


def _account(provider, claims: dict) -> tuple[User, ExternalIdentity]:
    identity = (
        ExternalIdentity.objects.select_for_update()
        .select_related("user")
        .filter(provider=provider, subject=str(claims["sub"])[:255])
        .first()
    )
    if identity is not None:
        return identity.user, identity
    email = claims.get("email")
    if not isinstance(email, str) or "@" not in email or claims.get("email_verified") is not True:
        raise SsoRefused(Refusal.EMAIL)
    email = email.strip().lower()
    user = User.objects.filter(email=email).first()
    if user is None:
        name = claims.get("name") if isinstance(claims.get("name"), str) else ""
        role = mapped_role(provider, groups_of(provider, claims))  # created in the mapped role: one event
        user = account_services.create_user(
            tenant=provider.tenant, email=email, password=None, role=role, full_name=name[:200]
        )
    elif email.rsplit("@", 1)[1] not in provider.domains():
        # An existing account is linked only when the tenant declared its domain as this provider's.
        raise SsoRefused(Refusal.TAKEN)
    identity = ExternalIdentity.objects.create(
        tenant=provider.tenant, provider=provider, user=user, subject=str(claims["sub"])[:255]
    )
    return user, identity


def apply_mapping(provider, user: User, claims: dict) -> User:
    """Give ``user`` the role and organisation the provider's mapping names (audited; no-ops when unchanged).
    A change the services refuse (the last administrator, a separation-of-duties rule, a required lesson) is
    not made; the login goes on."""
    groups = groups_of(provider, claims)
    reason = f"single sign-on mapping of {provider.method}"
    role = mapped_role(provider, groups)
    if user.role_id != role.pk:
        try:
            with transaction.atomic():
                apply_role_change(user, role, actor=None, reason=reason)
        except AccessRefused as refused:
            user.refresh_from_db()
            log.warning("sso mapping kept the role of user %s: %s", user.pk, refused)
    maps, organisation = mapped_organisation(provider, groups)
    if maps and user.organisation_id != (organisation.pk if organisation else None):
        try:
            with transaction.atomic():
                set_user_organisation(user, organisation, actor=None, reason=reason)
        except AccessRefused as refused:  # a separation-of-duties rule or a required lesson: as for the role
            user.refresh_from_db()
            log.warning("sso mapping kept the organisation of user %s: %s", user.pk, refused)
    return user


@transaction.atomic
def sign_in(provider, claims: dict) -> User:
    """The account ``claims`` (checked by ``sso.oidc``) stand for, provisioned and mapped; call inside the
    provider's tenant scope."""
    user, identity = _account(provider, claims)
    user = User.objects.select_for_update(of=("self",)).select_related("tenant", "role").get(pk=user.pk)
    if not user.is_active:
        raise SsoRefused(Refusal.INACTIVE)
    apply_mapping(provider, user, claims)
    identity.last_login_at = timezone.now()
    identity.save(update_fields=["last_login_at"])
    return user


def provider_mfa_satisfied(provider, claims: dict) -> bool:
    """Whether the provider says it used several factors, and the tenant lets that count as MFA here."""
    if not provider.provider_mfa:
        return False
    amr = claims.get("amr")
    values = {item for item in amr if isinstance(item, str)} if isinstance(amr, list) else set()
    if isinstance(claims.get("acr"), str):
        values.add(claims["acr"])
    return bool({value.lower() for value in values} & provider.mfa_value_set())
