"""Deactivation ends sessions at once (SES-5); invitations create inactive accounts; each is audited."""

from django.test import Client

from accounts import services
from accounts.scoping import tenant_scope
from audit.events import EventType
from audit.models import AuditEvent
from tests.conftest import login
from tests.factories import builtin_role


def events(tenant, event_type):
    with tenant_scope(tenant):
        return list(AuditEvent.objects.filter(event_type=event_type))


def test_ses5_deactivating_a_user_ends_all_their_sessions(acme_admin, acme_basic, django_capture_on_commit_callbacks):
    first, second = login(Client(), acme_basic), login(Client(), acme_basic)
    admin = login(Client(), acme_admin)
    with django_capture_on_commit_callbacks(execute=True):
        services.deactivate_user(acme_basic, actor=acme_admin, reason="left the company")
    assert first.get("/").status_code == 302
    assert second.get("/").status_code == 302
    assert admin.get("/").status_code == 200  # nobody else is logged out
    [event] = events(acme_basic.tenant, EventType.USER_DEACTIVATED)
    assert event.actor == acme_admin and event.target_id == str(acme_basic.pk)
    assert event.reason == "left the company"


def test_reactivation_is_audited(acme_admin, acme_basic):
    services.deactivate_user(acme_basic, actor=acme_admin)
    services.reactivate_user(acme_basic, actor=acme_admin)
    acme_basic.refresh_from_db()
    assert acme_basic.is_active
    assert len(events(acme_basic.tenant, EventType.USER_REACTIVATED)) == 1


def test_invited_user_is_inactive_without_a_password(acme_admin):
    tenant = acme_admin.tenant
    user = services.invite_user(
        tenant=tenant, email="New.Person@Acme.example", role=builtin_role(tenant), actor=acme_admin
    )
    assert user.email == "new.person@acme.example"
    assert not user.is_active and not user.has_usable_password()
    assert len(events(tenant, EventType.USER_INVITED)) == 1


def test_creating_a_tenant_and_a_user_is_audited(acme_admin):
    tenant = acme_admin.tenant
    assert len(events(tenant, EventType.TENANT_CREATED)) == 1
    [created] = events(tenant, EventType.USER_CREATED)
    assert created.target_id == str(acme_admin.pk)
    assert created.after == {"email": acme_admin.email, "role": "administrator", "is_active": True}
