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
