"""The administrators' API key screen: list, create after a step-up (the token shown once, never again),
revoke; refused to non-administrators. The portal's session also works on the API (CSRF enforced)."""

import time_machine
from django.test import Client
from django.utils import timezone

from accounts.scoping import tenant_scope
from api.models import ApiKey
from tests.api.conftest import bearer
from tests.conftest import login


def _form(**extra):
    return {"name": "ERP", "scopes": ["grants:view", "users:view"], "rate_per_minute": 600, **extra}


def test_admin_creates_a_key_after_step_up_and_sees_the_token_once(acme, acme_admin):
    client = login(Client(), acme_admin)
    assert client.get("/api/keys/").status_code == 200
    with time_machine.travel(timezone.now() + timezone.timedelta(minutes=11)):
        response = client.post("/api/keys/new", _form())
        assert response.status_code == 302 and response["Location"].startswith("/accounts/mfa/step-up/")
    response = client.post("/api/keys/new", _form())  # the login's MFA step is recent
    assert response.status_code == 200, response.content[:500]
    assert "no-store" in response["Cache-Control"]
    token = response.context["token"]
    assert token.startswith(f"pck_{acme.pk}_") and token in response.content.decode()
    listing = client.get("/api/keys/").content.decode()
    assert "ERP" in listing and token.split("_", 3)[3] not in listing
    assert bearer(token).get("/api/v1/users").status_code == 200
    with tenant_scope(acme):
        key = ApiKey.objects.get(name="ERP")
    assert client.get(f"/api/keys/{key.pk}/revoke").status_code == 405
    asked = client.post(f"/api/keys/{key.pk}/revoke")  # first, what revoking does; nothing changes yet
    assert asked.status_code == 200 and "Every application using this key is refused" in asked.content.decode()
    assert bearer(token).get("/api/v1/users").status_code == 200
    assert client.post(f"/api/keys/{key.pk}/revoke", {"confirmed": "yes"}).status_code == 302
    assert bearer(token).get("/api/v1/users").status_code == 401


def test_key_screen_is_refused_to_a_basic_user(acme_basic):
    client = login(Client(), acme_basic)
    assert client.get("/api/keys/").status_code == 403
    assert client.post("/api/keys/new", _form()).status_code == 403


def test_a_form_cannot_scope_beyond_the_creator(acme, acme_admin):
    client = login(Client(), acme_admin)
    response = client.post("/api/keys/new", _form(scopes=["nosuch:view"]))
    assert response.status_code == 200 and "token" not in response.context


def test_session_auth_works_on_the_api_with_csrf(acme_admin):
    client = login(Client(), acme_admin)
    client.handler.enforce_csrf_checks = True
    assert client.get("/api/v1/users").status_code == 200
    response = client.post("/api/v1/groups", {"name": "Initech"}, content_type="application/json")
    assert response.status_code == 403  # no CSRF token
    assert "CSRF" in response.json()["detail"]


def test_password_only_session_gets_nothing_from_the_api(acme_admin):
    from tests.accounts.conftest import password_only

    client = password_only(acme_admin)
    client = client[0] if isinstance(client, tuple) else client
    response = client.get("/api/v1/users")
    # Sent to the MFA step with no data (a status other than 200 alone would let a 500 pass).
    assert response.status_code == 302 and response["Location"].startswith("/accounts/mfa/"), response.status_code
    assert acme_admin.email not in response.content.decode()
