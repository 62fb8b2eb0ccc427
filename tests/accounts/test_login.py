"""Login, logout and sessions in the browser-less client."""

import pytest
from django.test import Client

from accounts.models import User
from accounts.scoping import tenant_scope
from tests.conftest import login, operator_login
from tests.factories import PASSWORD, UserFactory


def test_login_page_renders(client, db):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert b'name="username"' in response.content
    assert b'name="password"' in response.content


def test_admin_logs_in_and_sees_own_tenant_only(client, acme_admin, globex_admin):
    login(client, acme_admin)
    response = client.get("/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "Acme Trading" in body
    assert "Administrator" in body
    assert acme_admin.full_name in body
    assert "Globex" not in body
    assert globex_admin.email not in body


def test_home_requires_login(client, db):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_wrong_password_shows_error_and_no_session(client, acme_admin):
    response = client.post("/accounts/login/", {"username": acme_admin.email, "password": "wrong-password-123"})
    assert response.status_code == 200
    assert "The email or password is not correct." in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert client.get("/").status_code == 302


def test_auth1_unknown_account_and_wrong_password_answer_alike(acme_admin):
    """AUTH-1: same status and body for an unknown email and a wrong password."""
    wrong = Client().post("/accounts/login/", {"username": acme_admin.email, "password": "not-the-password"})
    unknown = Client().post("/accounts/login/", {"username": "nobody@acme.example", "password": "not-the-password"})
    assert wrong.status_code == unknown.status_code == 200

    def strip_tokens(response):
        import re

        return re.sub(r'value="[^"]*"', "", response.content.decode())

    assert strip_tokens(wrong).replace(acme_admin.email, "") == strip_tokens(unknown).replace("nobody@acme.example", "")


def test_inactive_user_cannot_log_in(client, acme):
    user = UserFactory(tenant=acme, is_active=False)
    response = client.post("/accounts/login/", {"username": user.email, "password": PASSWORD})
    assert response.status_code == 200
    assert "The email or password is not correct." in response.content.decode()


def test_email_is_case_insensitive(client, acme_admin):
    response = client.post("/accounts/login/", {"username": acme_admin.email.upper(), "password": PASSWORD})
    assert response.status_code == 302


def test_logout_is_post_only(admin_client_acme):
    assert admin_client_acme.get("/accounts/logout/").status_code == 405
    assert admin_client_acme.get("/").status_code == 200


def test_ses3_session_cookie_replayed_after_logout_is_refused(acme_admin):
    """SES-3: the session ends on the server at logout; the old cookie no longer authenticates."""
    client = login(Client(), acme_admin)
    cookie = client.cookies["portcullis_session"].value
    assert client.get("/").status_code == 200
    client.post("/accounts/logout/")

    replay = Client()
    replay.cookies["portcullis_session"] = cookie
    response = replay.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_deactivated_user_session_stops_working(acme_admin):
    client = login(Client(), acme_admin)
    with tenant_scope(acme_admin.tenant):
        User.objects.filter(pk=acme_admin.pk).update(is_active=False)
    assert client.get("/").status_code == 302


def test_inactive_tenant_cannot_log_in(client, acme_admin):
    acme = acme_admin.tenant
    acme.is_active = False
    acme.save()
    response = client.post("/accounts/login/", {"username": acme_admin.email, "password": PASSWORD})
    assert response.status_code == 200


@pytest.mark.parametrize("path", ["/platform-admin/", "/platform-admin/accounts/user/"])
def test_tenant_users_never_reach_platform_admin(admin_client_acme, path):
    response = admin_client_acme.get(path)
    assert response.status_code == 302
    assert "/platform-admin/login/" in response["Location"]


def test_operator_uses_platform_admin_across_tenants(client, acme_admin, globex_admin):
    operator = User.objects.create_superuser("ops@platform.example", PASSWORD)
    operator_login(client, operator)
    response = client.get("/platform-admin/accounts/user/")
    assert response.status_code == 200
    body = response.content.decode()
    assert acme_admin.email in body and globex_admin.email in body


def test_operator_has_no_tenant_pages(client, db):
    operator = User.objects.create_superuser("ops@platform.example", PASSWORD)
    client.force_login(operator)
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/platform-admin/"
