"""Demo identity provider of a tenant (demo only): one OpenID Connect provider, left disabled (its issuer is the
local discard port, where nothing answers). It fills the single sign-on screens and proves the encrypted client
secret column holds no clear text (tests/vault/test_demo_data_at_rest.py)."""

from __future__ import annotations

from django.test.utils import override_settings

from accounts.scoping import tenant_scope
from permissions.models import BuiltinRole, Role
from sso import services
from sso.models import IdentityProvider

SLUG = "demo-idp"
ISSUER = "http://127.0.0.1:9/portcullis-demo-idp"  # the discard port: nothing listens there


def client_secret(tenant) -> str:
    """The demo provider's client secret (demo only: anyone who reads this file can compute it)."""
    return f"portcullis-demo-client-secret-of-{tenant.slug}"


def seed(tenant) -> None:
    with tenant_scope(tenant):
        if IdentityProvider.objects.filter(slug=SLUG).exists():
            return
        # A local address is refused for real providers in production; this one is never called.
        with override_settings(SSO_ALLOW_HTTP_ISSUERS=True, SSO_ALLOW_PRIVATE_ISSUERS=True):
            services.create_provider(
                actor=None,
                tenant=tenant,
                slug=SLUG,
                name="Demo directory (disabled)",
                enabled=False,
                issuer=ISSUER,
                client_id=f"portcullis-{tenant.slug}",
                client_secret=client_secret(tenant),
                default_role=Role.objects.get(key=BuiltinRole.BASIC),
                email_domains=f"{tenant.slug}-corp.example",
            )
