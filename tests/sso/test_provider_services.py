"""Provider settings and group mappings: audited, the secret encrypted at rest, escalation behind four-eyes."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import override_settings

from accounts.scoping import tenant_scope
from audit.events import EventType
from audit.models import AuditEvent
from permissions.models import BuiltinRole, PendingChange, Role
from permissions.services import changes
from permissions.services.errors import AccessRefused, ErrorCode
from sso import services
from sso.models import IdentityProvider
from tests.factories import UserFactory
from tests.sso.conftest import make_provider

ISSUER = "http://127.0.0.1:9"


@pytest.fixture
def in_acme(acme):
    with tenant_scope(acme):
        yield acme


@pytest.fixture
def acme_admin2(acme):
    return UserFactory(tenant=acme, email="admin2@acme.example", role_key=BuiltinRole.ADMINISTRATOR)


@pytest.fixture
def corp(in_acme):
    return make_provider(in_acme, ISSUER, "portcullis")


def role(key):
    return Role.objects.get(key=key)


def test_creation_is_audited_without_the_secret_which_is_encrypted_at_rest(corp, acme_admin):
    event = AuditEvent.objects.get(event_type=EventType.SSO_PROVIDER_CREATED)
    assert event.after["client_id"] == "portcullis" and "client_secret" not in event.after
    with connection.cursor() as cursor:
        cursor.execute("SELECT client_secret FROM sso_identityprovider WHERE id = %s", [corp.pk])
        stored = cursor.fetchone()[0]
    assert "test-client-secret" not in stored
    assert IdentityProvider.objects.get(pk=corp.pk).client_secret.startswith("test-client-secret")


def test_a_changed_secret_is_audited_as_changed_only(corp, acme_admin):
    services.update_provider(corp, actor=acme_admin, client_secret="another-secret-of-thirty-two-chars")
    event = AuditEvent.objects.get(event_type=EventType.SSO_PROVIDER_CHANGED)
    assert event.after == {"client_secret": True}
    services.update_provider(corp, actor=acme_admin, name="Corp directory")
    assert AuditEvent.objects.filter(event_type=EventType.SSO_PROVIDER_CHANGED).count() == 1  # a no-op


def test_only_settings_holders_may_change_providers(corp, acme_basic):
    with pytest.raises(AccessRefused):
        services.update_provider(corp, actor=acme_basic, name="Mine")
    with pytest.raises(AccessRefused):
        services.set_mappings(corp, [{"group": "x", "role": BuiltinRole.ADVANCED}], actor=acme_basic)


def test_another_tenants_provider_is_refused(corp, globex_admin):
    with pytest.raises(AccessRefused) as refused:
        services.update_provider(corp, actor=globex_admin, name="Taken over")
    assert refused.value.code == ErrorCode.CROSS_TENANT


def test_the_default_role_may_not_hold_console_rights(in_acme, corp, acme_admin):
    with pytest.raises(ValidationError):
        services.update_provider(corp, actor=acme_admin, default_role=role(BuiltinRole.ADMINISTRATOR))


@override_settings(SSO_ALLOW_HTTP_ISSUERS=False)
def test_an_http_issuer_is_refused_in_production(in_acme, acme_admin):
    with pytest.raises(ValidationError) as refused:
        make_provider(in_acme, ISSUER, "portcullis")
    assert "https" in str(refused.value)


@override_settings(SSO_ALLOW_PRIVATE_ISSUERS=False)
def test_a_private_issuer_is_refused_unless_allowed(in_acme):
    with pytest.raises(ValidationError):
        make_provider(in_acme, ISSUER, "portcullis")


def test_a_mapping_of_unknown_roles_or_malformed_is_refused_and_changes_nothing(corp, acme_admin):
    for bad in ([{"group": "x", "role": "nope"}], [{"group": "", "role": "basic"}], [{"group": "x"}], "x"):
        with pytest.raises(ValidationError):
            services.set_mappings(corp, bad, actor=acme_admin)
    assert IdentityProvider.objects.get(pk=corp.pk).mappings == []


def test_a_non_escalating_mapping_applies_at_once_audited(corp, acme_admin):
    result = services.set_mappings(corp, [{"group": "staff", "role": BuiltinRole.ADVANCED}], actor=acme_admin)
    assert isinstance(result, IdentityProvider) and result.mappings[0]["role"] == BuiltinRole.ADVANCED
    event = AuditEvent.objects.get(event_type=EventType.SSO_MAPPING_CHANGED)
    assert event.before == {"mappings": []}


def test_an_escalating_mapping_waits_for_a_second_administrator(corp, acme_admin, acme_admin2):
    mapping = [{"group": "it-admins", "role": BuiltinRole.ADMINISTRATOR}]
    change = services.set_mappings(corp, mapping, actor=acme_admin, reason="IT runs the portal")
    assert isinstance(change, PendingChange) and change.kind == PendingChange.Kind.SSO_MAPPING
    assert IdentityProvider.objects.get(pk=corp.pk).mappings == []
    with pytest.raises(AccessRefused) as refused:
        changes.approve_change(change, actor=acme_admin)
    assert refused.value.code == ErrorCode.SELF_APPROVAL
    changes.approve_change(change, actor=acme_admin2)
    assert IdentityProvider.objects.get(pk=corp.pk).mappings == [
        {"group": "it-admins", "role": BuiltinRole.ADMINISTRATOR, "organisation": None}
    ]
    event = AuditEvent.objects.get(event_type=EventType.SSO_MAPPING_CHANGED)
    assert event.reason == "IT runs the portal" and event.after["approved_by"]


def test_an_approver_must_hold_what_the_mapped_role_gives(corp, acme_admin):
    advanced = UserFactory(tenant=corp.tenant, email="adv@acme.example", role_key=BuiltinRole.ADVANCED)
    change = services.set_mappings(corp, [{"group": "g", "role": BuiltinRole.ADMINISTRATOR}], actor=acme_admin)
    with pytest.raises(AccessRefused):
        changes.approve_change(change, actor=advanced)
    assert IdentityProvider.objects.get(pk=corp.pk).mappings == []


def test_removing_an_escalating_mapping_needs_no_approval(corp, acme_admin, acme_admin2):
    change = services.set_mappings(corp, [{"group": "g", "role": BuiltinRole.ADMINISTRATOR}], actor=acme_admin)
    changes.approve_change(change, actor=acme_admin2)
    assert isinstance(services.set_mappings(corp, [], actor=acme_admin), IdentityProvider)


def test_deletion_is_audited(corp, acme_admin):
    services.delete_provider(corp, actor=acme_admin, reason="moved to another provider")
    assert not IdentityProvider.objects.exists()
    assert AuditEvent.objects.filter(event_type=EventType.SSO_PROVIDER_DELETED).count() == 1
