"""An identity provider of a tenant, for the AZ-1 walker: (id or slug, a text that must not leak)."""

from accounts.scoping import tenant_scope
from sso.models import IdentityProvider
from tests.sso.conftest import make_provider


def provider(tenant, kind: str):
    """The tenant's walker provider (made on first use; its slug names the tenant, so another tenant's slug is
    never one of this tenant's providers), as its id, its slug, or its tenant's slug."""
    name = f"Confidential directory of {tenant.slug}"
    with tenant_scope(tenant):
        found = IdentityProvider.objects.filter(name=name).first()
        if found is None:
            found = make_provider(tenant, "http://127.0.0.1:9", f"walker-{tenant.slug}")
            found.name, found.slug = name, f"{tenant.slug}-idp"
            found.save(update_fields=["name", "slug"])
    if kind == "id":
        return found.pk, name
    if kind == "slug":
        return found.slug, name
    return tenant.slug, name
