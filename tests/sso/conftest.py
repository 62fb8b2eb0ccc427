"""Fixtures of the single sign-on suite: a real OpenID Connect provider, and a provider row per tenant."""

from __future__ import annotations

import pytest

from accounts.scoping import tenant_scope
from permissions.models import BuiltinRole, Role
from sso import endpoints, services
from tests.api.conftest import _fresh_api_state, acme_key, api_acme, api_globex, globex_key  # noqa: F401 (fixtures)
from tests.sso.oidc_process import CLIENT_SECRET, OidcProvider, client_for

ACCOUNTS = {
    "alice": {"email": "alice@acme-corp.test", "email_verified": True, "name": "Alice", "groups": ["staff"]},
    "bob": {"email": "bob@acme-corp.test", "email_verified": True, "name": "Bob", "groups": ["staff", "auditors"]},
    "mallory": {"email": "mallory@acme-corp.test", "email_verified": False, "groups": []},
}


def callback(tenant: str, host: str = "http://testserver") -> str:
    return f"{host}/sso/{tenant}/corp/callback/"


@pytest.fixture(scope="session")
def oidc():
    """One provider for the run: a client for acme's and one for globex's portal tenant (test client host)."""
    provider = OidcProvider(
        clients=[
            client_for("portcullis-acme", [callback("acme")], ["http://testserver/accounts/login/"]),
            client_for("portcullis-globex", [callback("globex")]),
        ],
        accounts=ACCOUNTS,
    )
    yield provider
    provider.stop()


@pytest.fixture(autouse=True)
def _fresh_provider_state(request):
    """Each test starts with the provider's accounts as above, no fault, and nothing cached of it here."""
    endpoints._cache.clear()
    if "oidc" in request.fixturenames:
        oidc = request.getfixturevalue("oidc")
        oidc.set_accounts(ACCOUNTS)
        oidc.fault("")
    yield
    endpoints._cache.clear()


def make_provider(tenant, issuer: str, client_id: str, **settings):
    with tenant_scope(tenant):
        basic = Role.objects.get(key=BuiltinRole.BASIC)
        return services.create_provider(
            actor=None,
            tenant=tenant,
            slug="corp",
            name="Corp directory",
            issuer=issuer,
            client_id=client_id,
            client_secret=CLIENT_SECRET,
            default_role=basic,
            email_domains="acme-corp.test",
            **{"scopes": "openid email profile groups", **settings},
        )


@pytest.fixture
def acme_corp(acme, oidc):
    acme.mfa_policy = acme.MfaPolicy.PRIVILEGED
    acme.save(update_fields=["mfa_policy"])
    return make_provider(acme, oidc.issuer, "portcullis-acme")


@pytest.fixture
def globex_corp(globex, oidc):
    globex.mfa_policy = globex.MfaPolicy.PRIVILEGED
    globex.save(update_fields=["mfa_policy"])
    return make_provider(globex, oidc.issuer, "portcullis-globex")


# SAML 2.0 -----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def saml_idp():
    """One SAML identity provider (pysaml2's, tests/sso/saml_idp_server.py) for the run."""
    from tests.sso.saml_process import SamlIdp

    idp = SamlIdp(accounts=ACCOUNTS)
    yield idp
    idp.stop()


def make_saml_provider(tenant, idp, *, register: bool = True, **settings):
    """The tenant's SAML provider "corp" (the IdP's metadata pasted), and the portal's SP metadata of it given to
    the IdP (as an administrator registers the portal there)."""
    from django.test import Client

    with tenant_scope(tenant):
        basic = Role.objects.get(key=BuiltinRole.BASIC)
        provider = services.create_provider(
            actor=None,
            tenant=tenant,
            slug="corp",
            name="Corp SAML",
            protocol="saml",
            saml_metadata=idp.metadata,
            default_role=basic,
            email_domains="acme-corp.test",
            **settings,
        )
    if register:
        metadata = Client().get(f"/sso/{tenant.slug}/corp/saml/metadata/")
        assert metadata.status_code == 200, metadata.content[:300]
        idp.add_sp(metadata.content.decode())
    return provider


@pytest.fixture
def acme_saml(acme, saml_idp):
    saml_idp.set_accounts(ACCOUNTS)
    saml_idp.fault("")
    acme.mfa_policy = acme.MfaPolicy.PRIVILEGED
    acme.save(update_fields=["mfa_policy"])
    return make_saml_provider(acme, saml_idp)


@pytest.fixture
def globex_saml(globex, saml_idp):
    globex.mfa_policy = globex.MfaPolicy.PRIVILEGED
    globex.save(update_fields=["mfa_policy"])
    return make_saml_provider(globex, saml_idp)
