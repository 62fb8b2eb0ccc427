"""Tenant settings change through one service: validated, and audited with the changed fields only."""

import pytest
from django.core.exceptions import ValidationError

from accounts import services
from accounts.models import Tenant
from accounts.scoping import tenant_scope
from audit.events import EventType
from audit.models import AuditEvent


def settings_events(tenant):
    with tenant_scope(tenant):
        return list(AuditEvent.objects.filter(event_type=EventType.TENANT_SETTINGS_CHANGED))


def test_changed_fields_are_saved_and_audited_with_before_and_after(acme_admin):
    tenant = acme_admin.tenant
    services.update_tenant_settings(
        tenant, actor=acme_admin, session_idle_minutes=15, mfa_policy=tenant.mfa_policy, reason="policy review"
    )
    assert Tenant.objects.get(pk=tenant.pk).session_idle_minutes == 15
    [event] = settings_events(tenant)
    assert event.before == {"session_idle_minutes": 30} and event.after == {"session_idle_minutes": 15}
    assert event.actor == acme_admin and event.reason == "policy review"


def test_no_change_records_nothing(acme_admin):
    services.update_tenant_settings(acme_admin.tenant, actor=acme_admin, time_zone="UTC")
    assert settings_events(acme_admin.tenant) == []


def test_invalid_values_are_refused_and_nothing_is_recorded(acme_admin):
    tenant = acme_admin.tenant
    with pytest.raises(ValidationError):
        services.update_tenant_settings(tenant, actor=acme_admin, session_idle_minutes=1)
    with pytest.raises(ValidationError):
        services.update_tenant_settings(tenant, actor=acme_admin, time_zone="Mars/Olympus")
    assert Tenant.objects.get(pk=tenant.pk).session_idle_minutes == 30
    assert settings_events(tenant) == []


def test_fields_that_are_not_settings_are_refused(acme_admin):
    with pytest.raises(ValueError, match="slug"):
        services.update_tenant_settings(acme_admin.tenant, actor=acme_admin, slug="mine")
    with pytest.raises(ValueError, match="is_active"):
        services.update_tenant_settings(acme_admin.tenant, actor=acme_admin, is_active=False)


def test_a_user_of_another_tenant_cannot_change_the_settings(acme_admin, globex_admin):
    with pytest.raises(ValueError, match="only a user of the tenant"):
        services.update_tenant_settings(acme_admin.tenant, actor=globex_admin, session_idle_minutes=60)
