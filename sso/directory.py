"""Which providers a login page offers: home-realm discovery by e-mail domain, and a tenant's own buttons."""

from __future__ import annotations

from accounts.scoping import dangerously_unscoped
from sso.models import IdentityProvider

MAX_FOUND = 5


def providers_for_email(email: str, tenant_slug: str = "") -> list[IdentityProvider]:
    """The enabled providers whose domains hold ``email``'s domain (of the tenant ``tenant_slug`` when given).
    Before anyone is logged in no tenant is known: this is the login page's one cross-tenant read of providers
    (it tells only that a domain signs in somewhere, never who has an account)."""
    if "@" not in email:
        return []
    domain = email.rsplit("@", 1)[1].strip().lower()
    if not domain:
        return []
    with dangerously_unscoped():
        found = IdentityProvider.objects.select_related("tenant").filter(
            enabled=True, tenant__is_active=True, email_domains__icontains=domain
        )
        if tenant_slug:
            found = found.filter(tenant__slug=tenant_slug.strip().lower())
        return [provider for provider in found[: MAX_FOUND * 4] if domain in provider.domains()][:MAX_FOUND]


def providers_of_tenant(tenant_slug: str) -> list[IdentityProvider]:
    """The enabled providers of the tenant named by its own login URL (``?organisation=<slug>``)."""
    if not tenant_slug:
        return []
    with dangerously_unscoped():  # the login page names the tenant before anyone is logged in
        return list(
            IdentityProvider.objects.select_related("tenant")
            .filter(enabled=True, tenant__is_active=True, tenant__slug=tenant_slug)
            .order_by("name")[:MAX_FOUND]
        )
