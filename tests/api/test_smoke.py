"""First contact: a key reads users; no key is 401 problem+json; the check API answers like the engine."""

from accounts.scoping import tenant_scope
from permissions import engine
from permissions.vocabulary import Action


def test_list_users_with_a_key(api_acme, acme_admin, acme_basic):
    response = api_acme.get("/api/v1/users")
    assert response.status_code == 200, response.content
    emails = {row["email"] for row in response.json()["results"]}
    assert emails == {acme_admin.email, acme_basic.email}


def test_no_key_is_401_problem(client):
    response = client.get("/api/v1/users")
    assert response.status_code == 401
    assert response["WWW-Authenticate"]
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == response.status_code


def test_check_matches_engine(api_acme, acme_basic):
    response = api_acme.post(
        "/api/v1/check",
        {"subject": acme_basic.pk, "action": "view", "target": {"module": "products"}},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    with tenant_scope(acme_basic.tenant):
        assert response.json() == {"allowed": engine.can(acme_basic, Action.VIEW, "products")} == {"allowed": True}
