"""/api/v1/identity-providers: the console's services over the API (settings: view / change, the key's scope)."""

from __future__ import annotations

from accounts.scoping import tenant_scope
from permissions.models import BuiltinRole, PendingChange
from sso.models import IdentityProvider
from tests.sso.conftest import make_provider

ISSUER = "http://127.0.0.1:9"
NEW = {
    "slug": "corp",
    "name": "Corp directory",
    "issuer": ISSUER,
    "client_id": "portal",
    "client_secret": "a-client-secret-of-enough-length",
    "default_role": BuiltinRole.BASIC,
    "email_domains": "acme-corp.test",
}


def test_create_read_change_map_and_delete(api_acme, acme):
    created = api_acme.post("/api/v1/identity-providers", NEW, content_type="application/json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert "client_secret" not in body and body["default_role"] == BuiltinRole.BASIC
    listed = api_acme.get("/api/v1/identity-providers").json()
    assert [p["slug"] for p in listed["results"]] == ["corp"]
    url = f"/api/v1/identity-providers/{body['id']}"
    changed = api_acme.patch(url, {"name": "Corp SSO", "enabled": False}, content_type="application/json")
    assert changed.status_code == 200 and changed.json()["name"] == "Corp SSO"
    mapped = api_acme.put(f"{url}/mappings", [{"group": "a", "role": "advanced"}], content_type="application/json")
    assert mapped.status_code == 200 and mapped.json()["mappings"][0]["role"] == "advanced"
    pending = api_acme.put(
        f"{url}/mappings", [{"group": "a", "role": "administrator"}], content_type="application/json"
    )
    assert pending.status_code == 202
    with tenant_scope(acme):
        assert PendingChange.objects.filter(pk=pending.json()["pending_change"]).exists()
    assert api_acme.delete(url).status_code == 204
    with tenant_scope(acme):
        assert not IdentityProvider.objects.exists()


def test_bad_input_is_refused_and_changes_nothing(api_acme, acme):
    no_secret = {key: value for key, value in NEW.items() if key != "client_secret"}
    for bad in (
        {**NEW, "issuer": "ftp://x"},
        {**NEW, "default_role": "administrator"},
        {**NEW, "slug": "A B"},
        no_secret,
    ):
        response = api_acme.post("/api/v1/identity-providers", bad, content_type="application/json")
        assert response.status_code == 400, (bad, response.content)
    with tenant_scope(acme):
        assert not IdentityProvider.objects.exists()


def test_another_tenants_provider_is_not_found(api_globex, acme):
    provider = make_provider(acme, ISSUER, "portal")
    url = f"/api/v1/identity-providers/{provider.pk}"
    assert api_globex.get(url).status_code == 404
    assert api_globex.patch(url, {"name": "x"}, content_type="application/json").status_code == 404
    assert api_globex.delete(url).status_code == 404
