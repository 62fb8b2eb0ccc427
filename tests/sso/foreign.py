"""An identity provider of a tenant, for the AZ-1 walker: (id or slug, a text that must not leak).

It is a SAML provider (with the metadata of an IdP that is not running): every single sign-on URL then answers
for it (the SAML ones, and the OpenID Connect callback with its "no sign-in of this browser" page), so the
walker's control "own ids are found" holds on each pattern."""

import shutil

from accounts.scoping import tenant_scope
from sso.models import IdentityProvider
from tests.sso.conftest import make_saml_provider


class _Metadata:
    def __init__(self, metadata: str):
        self.metadata = metadata


def _idp_metadata() -> str:
    from tests.sso.saml_idp_server import IdentityProvider as TestIdp

    idp = TestIdp(9, {})  # the discard port: nothing listens there
    try:
        return idp.metadata()
    finally:
        shutil.rmtree(idp.folder, ignore_errors=True)


def provider(tenant, kind: str):
    """The tenant's walker provider (made on first use; its slug names the tenant, so another tenant's slug is
    never one of this tenant's providers), as its id, its slug, or its tenant's slug."""
    name = f"Confidential directory of {tenant.slug}"
    with tenant_scope(tenant):
        found = IdentityProvider.objects.filter(name=name).first()
        if found is None:
            found = make_saml_provider(tenant, _Metadata(_idp_metadata()), register=False)
            found.name, found.slug = name, f"{tenant.slug}-idp"
            found.save(update_fields=["name", "slug"])
    if kind == "id":
        return found.pk, name
    if kind == "slug":
        return found.slug, name
    return tenant.slug, name
