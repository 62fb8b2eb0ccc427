"""INS-4: platform operators log in with a TOTP code (same lockout as tenants), cannot edit tenant users,
roles or settings in the Django admin, and what they do change goes through the tenant's services into its
audit trail with the operator shown as such. Roles always say whose they are."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client

from accounts import operators
from accounts.models import Tenant, User
from accounts.scoping import dangerously_unscoped, tenant_scope
from audit.events import EventType
from audit.models import AuditEvent
from tests.conftest import login, operator_code, operator_login
from tests.factories import PASSWORD


@pytest.fixture
def operator(db):
    return User.objects.create_superuser("ops@platform.example", PASSWORD)


@pytest.fixture
def ops(operator):
    return operator_login(Client(), operator)


def post_login(client, operator, code, password=PASSWORD):
    return client.post(
        "/platform-admin/login/",
        {"username": operator.email, "password": password, "code": code, "next": "/platform-admin/"},
    )


def test_ins4_an_operator_needs_the_code_of_their_authenticator(operator):
    code = operator_code(operator)  # enrols the authenticator
    client = Client()
    for wrong in ("", "000000"):
        response = post_login(client, operator, wrong)
        assert response.status_code == 200 and not client.session.get(operators.SESSION_FLAG)
    assert client.get("/platform-admin/").status_code == 302
    assert post_login(client, operator, code).status_code == 200  # throttled after wrong codes (as MFA-4)
    later = datetime.now(UTC) + timedelta(seconds=60)
    with time_machine.travel(later, tick=False):
        assert post_login(client, operator, operator_code(operator)).status_code == 302
        assert client.get("/platform-admin/").status_code == 200


def test_ins4_an_operator_without_an_authenticator_cannot_log_in(operator):
    client = Client()
    assert post_login(client, operator, "123456").status_code == 200
    assert client.get("/platform-admin/").status_code == 302


def test_ins4_a_password_only_operator_session_does_not_reach_the_admin(operator):
    client = Client()
    client.force_login(operator)  # e.g. through the tenants' login page, which asks no operator code
    response = client.get("/platform-admin/accounts/user/")
    assert response.status_code == 302 and "/platform-admin/login/" in response["Location"]


def test_ins4_wrong_codes_lock_the_operator_out_like_a_tenant_user(operator):
    """Five failures per (account, address) lock the pair: then even the right password and code fail."""
    operator_code(operator)
    client = Client()
    for _ in range(5):
        post_login(client, operator, "000000")
    response = post_login(client, operator, operator_code(operator))
    assert response.status_code == 429
    assert client.get("/platform-admin/").status_code == 302


def test_ins4_the_operator_seed_is_sealed_at_rest(operator):
    key = b"0123456789abcdefghij"
    operators.enrol(operator, key)
    with connection.cursor() as cursor:
        cursor.execute("SELECT sealed_key, uid FROM accounts_operatortotpdevice")
        [(raw, _uid)] = cursor.fetchall()
    assert key.hex() not in raw and key.decode() not in raw
    device = operators.OperatorTotpDevice.objects.get(user=operator)
    other = operators.OperatorTotpDevice(user=operator)
    with pytest.raises(Exception):  # noqa: B017,PT011 (a seed copied to another row does not open)
        operators.unseal(device.sealed_key, other.uid)


def test_ins4_operators_cannot_edit_tenant_users_roles_or_settings(ops, acme, acme_admin, acme_basic):
    role_before = acme_basic.role_id
    for url in (
        f"/platform-admin/accounts/user/{acme_basic.pk}/change/",
        f"/platform-admin/permissions/role/{acme_basic.role_id}/change/",
        f"/platform-admin/accounts/tenant/{acme.pk}/change/",
    ):
        assert ops.get(url).status_code == 200  # read
        response = ops.post(url, {"role": acme_admin.role_id, "is_active": "", "mfa_policy": "privileged"})
        assert response.status_code == 403, url
    assert ops.get("/platform-admin/accounts/user/add/").status_code == 403
    assert ops.post(f"/platform-admin/accounts/user/{acme_basic.pk}/delete/", {"post": "yes"}).status_code == 403
    acme_basic.refresh_from_db()
    acme.refresh_from_db()
    assert acme_basic.role_id == role_before and acme_basic.is_active and acme.mfa_policy == "everyone"


def test_ins4_roles_always_say_whose_they_are(ops, acme_admin, globex_admin):
    body = ops.get("/platform-admin/accounts/user/").content.decode()
    assert "Administrator (Acme Trading)" in body and "Administrator (Globex)" in body
    body = ops.get(f"/platform-admin/accounts/user/{acme_admin.pk}/change/").content.decode()
    assert "Administrator (Acme Trading)" in body


def test_ins4_an_operator_deactivation_goes_through_the_tenant_service_and_trail(
    ops, operator, acme, acme_admin, acme_basic
):
    response = ops.post(
        "/platform-admin/accounts/user/",
        {"action": "deactivate_users", "_selected_action": [acme_basic.pk], "index": 0},
    )
    assert response.status_code == 302
    acme_basic.refresh_from_db()
    assert not acme_basic.is_active
    with tenant_scope(acme):
        [event] = AuditEvent.objects.filter(event_type=EventType.USER_DEACTIVATED)
    assert event.actor_id == operator.pk and event.actor_is_operator
    assert event.actor_label == "ops@platform.example"
    # The tenant's own audit viewer says who acted, and that they are a platform operator.
    admin_client = login(Client(), acme_admin)
    body = admin_client.get("/audit/").content.decode()
    assert "Platform operator ops@platform.example" in body
    body = admin_client.get(f"/audit/events/{event.pk}/").content.decode()
    assert "Platform operator ops@platform.example" in body


def test_ins4_an_operator_suspends_but_never_restores_access(ops, operator, acme, acme_admin, acme_basic):
    """Operators hold no right of the tenant: they may suspend an account (containment), never bring one back."""
    ops.post("/platform-admin/accounts/user/", {"action": "deactivate_users", "_selected_action": [acme_basic.pk]})
    acme_basic.refresh_from_db()
    assert not acme_basic.is_active
    response = ops.post(
        "/platform-admin/accounts/user/", {"action": "reactivate_users", "_selected_action": [acme_basic.pk]}
    )
    assert response.status_code == 302
    acme_basic.refresh_from_db()
    assert not acme_basic.is_active
    with tenant_scope(acme):
        assert not AuditEvent.objects.filter(event_type=EventType.USER_REACTIVATED).exists()


def test_ins4_an_operator_creates_a_tenant_through_the_service(ops, operator):
    response = ops.post("/platform-admin/accounts/tenant/add/", {"name": "Initech", "slug": "initech"})
    assert response.status_code == 302, response.content[:800]
    with dangerously_unscoped():
        tenant = Tenant.objects.get(slug="initech")
        assert set(tenant.roles.values_list("key", flat=True)) == {"basic", "advanced", "administrator"}
    with tenant_scope(tenant):
        [event] = AuditEvent.objects.filter(event_type=EventType.TENANT_CREATED)
    assert event.actor_id == operator.pk and event.actor_is_operator
