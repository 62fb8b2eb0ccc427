"""The recording API: one event per change in its transaction (LOG-1), what an event carries (LOG-5),
no secrets (LOG-6), personal data only as commitments, gapless positions."""

import json

import pytest
from django.db import IntegrityError, transaction
from django.test import Client

import audit
from accounts import services
from accounts.models import User
from accounts.scoping import tenant_scope
from audit.canonical import canonical_bytes
from audit.events import EventType
from audit.models import AuditEvent, PersonalValue
from audit.personal import commitment, erase_subject
from audit.recording import SensitiveDataError, Target
from audit.verify import verify_tenant
from tests.audit.conftest import fill
from tests.conftest import login


def events(tenant, **filters):
    with tenant_scope(tenant):
        return list(AuditEvent.objects.filter(**filters).order_by("seq"))


def test_log1_a_change_writes_exactly_one_event_in_its_transaction(acme_admin, acme_basic):
    before = len(events(acme_admin.tenant))
    services.deactivate_user(acme_basic, actor=acme_admin, reason="left")
    after = events(acme_admin.tenant)
    assert len(after) == before + 1
    assert after[-1].event_type == EventType.USER_DEACTIVATED


def test_log1_a_rolled_back_change_leaves_no_event(acme_admin, acme_basic):
    count = len(events(acme_admin.tenant))

    def change_then_fail():
        with transaction.atomic():
            services.deactivate_user(acme_basic, actor=acme_admin)
            raise RuntimeError("the caller fails after the service")

    with pytest.raises(RuntimeError):
        change_then_fail()
    acme_basic.refresh_from_db()
    assert acme_basic.is_active
    assert len(events(acme_admin.tenant)) == count


def test_log1_a_failed_event_write_rolls_the_change_back(acme_admin, acme_basic):
    """The service's change and its event live or die together: an unrecordable event undoes the change."""
    with pytest.raises(SensitiveDataError):
        services.deactivate_user(acme_basic, actor=acme_admin, reason="password=hunter2")
    acme_basic.refresh_from_db()
    assert acme_basic.is_active


@pytest.mark.django_db(transaction=True)
def test_record_refuses_to_run_outside_a_transaction(acme):
    with pytest.raises(RuntimeError, match="inside the transaction"):
        audit.record(EventType.USER_CHANGED, tenant=acme)


def test_record_refuses_an_unknown_event_type(acme):
    with pytest.raises(ValueError, match="teleported"), transaction.atomic():
        audit.record("user.teleported", tenant=acme)


@pytest.mark.parametrize(
    "payload",
    [
        {"before": {"password": "x"}},
        {"after": {"new_password_hash": "x"}},
        {"after": {"otp": "123456"}},
        {"after": {"password": 123456}},
        {"after": {"device": {"totp_secret": "JBSW"}}},
        {"after": {"api_token": "t"}},
        {"before": {"client_secret": "s"}},
        {"after": {"session_key": "abc"}},
        {"after": {"sessionid": "abc"}},
        {"after": {"items": [{"refresh_token": "r"}]}},
        {"reason": "reset with password: hunter2"},
        {"reason": "session=abcdef"},
    ],
)
def test_log6_record_refuses_values_named_like_secrets(acme, payload):
    with pytest.raises(SensitiveDataError), transaction.atomic():
        audit.record(EventType.USER_CHANGED, tenant=acme, **payload)
    assert events(acme, event_type=EventType.USER_CHANGED) == []


def test_log6_harmless_names_are_recorded(acme):
    with transaction.atomic():
        audit.record(
            EventType.USER_CHANGED,
            tenant=acme,
            after={"mfa_enrolled": True, "sessions_ended": 2, "password_changed": True},
            reason="changed their password",
        )
    assert len(events(acme, event_type=EventType.USER_CHANGED)) == 1


def test_log5_events_carry_actor_tenant_address_request_id_utc_time_before_and_after(acme_admin, acme_basic):
    client = login(Client(HTTP_USER_AGENT="Tester/1.0"), acme_admin)
    # A real request sets the origin; record an event while serving one through the export view.
    response = client.post("/audit/export/", HTTP_X_REQUEST_ID="req-12345678", REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 200
    b"".join(response.streaming_content)
    [event] = events(acme_admin.tenant, event_type=EventType.AUDIT_EXPORTED)
    payload = event.payload
    assert payload["tenant"] == acme_admin.tenant_id and event.tenant_id == acme_admin.tenant_id
    assert payload["actor"]["id"] == acme_admin.pk and event.actor == acme_admin
    assert event.actor_label == acme_admin.email
    assert event.address == "203.0.113.9"
    assert event.request_id == "req-12345678"
    assert event.user_agent == "Tester/1.0"
    assert payload["time"].endswith("Z") and event.occurred_at.utcoffset().total_seconds() == 0
    services.deactivate_user(acme_basic, actor=acme_admin, reason="left")
    [deactivated] = events(acme_admin.tenant, event_type=EventType.USER_DEACTIVATED)
    assert deactivated.before == {"is_active": True} and deactivated.after == {"is_active": False}
    assert deactivated.reason == "left"


def test_canonical_bytes_are_rfc8785_with_tenant_position_and_schema_version(acme):
    fill(acme, 3)
    for position, event in enumerate(events(acme)):
        payload = json.loads(event.canonical)
        assert (payload["v"], payload["tenant"], payload["seq"]) == (1, acme.pk, position)
        assert canonical_bytes(payload) == event.canonical.encode("utf-8")
        assert event.seq == position


def test_personal_data_is_hashed_only_as_salted_commitments(acme_admin):
    tenant = acme_admin.tenant
    user = services.create_user(
        tenant=tenant,
        email="grace.hopper@acme.example",
        password=None,
        role=acme_admin.role,
        full_name="Grace Hopper",
        actor=acme_admin,
    )
    [created] = events(tenant, event_type=EventType.USER_CREATED, target_id=str(user.pk))
    assert "grace.hopper" not in created.canonical and "Grace Hopper" not in created.canonical
    assert acme_admin.email not in created.canonical
    # The clear values live apart, with the salts that open the commitments.
    with tenant_scope(tenant):
        stored = {k: v for p in PersonalValue.objects.filter(seq=created.seq) for k, v in p.fields().items()}
    assert stored["after.email"]["value"] == "grace.hopper@acme.example"
    assert created.payload["after"]["email"] == {
        "$pii": commitment(bytes.fromhex(stored["after.email"]["salt"]), stored["after.email"]["value"])
    }
    assert created.after["email"] == "grace.hopper@acme.example"
    assert created.target_label == "Grace Hopper"


def test_dp3_erasing_a_person_keeps_the_chain_verifiable(acme_admin):
    tenant = acme_admin.tenant
    user = services.create_user(
        tenant=tenant, email="leaver@acme.example", password=None, role=acme_admin.role, actor=acme_admin
    )
    services.deactivate_user(user, actor=acme_admin)
    assert verify_tenant(tenant).ok
    assert erase_subject(tenant, user.pk, actor=acme_admin) >= 2
    [created] = events(tenant, event_type=EventType.USER_CREATED, target_id=str(user.pk))
    assert created.after["email"] is None  # erased
    with tenant_scope(tenant):
        assert not PersonalValue.objects.filter(values__icontains="leaver").exists()
    assert verify_tenant(tenant).ok
    assert events(tenant, event_type=EventType.PERSONAL_DATA_ERASED)


def test_deleting_a_user_never_touches_the_events(acme_admin, acme_basic):
    tenant = acme_admin.tenant
    services.deactivate_user(acme_basic, actor=acme_basic)
    before = [(e.seq, e.canonical, e.actor_id) for e in events(tenant)]
    # Would raise if the database had to update (SET NULL) or delete (CASCADE) append-only rows.
    User.objects.dangerously_all_tenants().filter(pk=acme_basic.pk).delete()
    assert [(e.seq, e.canonical, e.actor_id) for e in events(tenant)] == before
    assert verify_tenant(tenant).ok


def test_positions_are_gapless_per_tenant_and_independent_between_tenants(acme, globex):
    fill(acme, 4)
    fill(globex, 2)
    fill(acme, 1)
    assert [e.seq for e in events(acme)] == list(range(len(events(acme))))
    assert [e.seq for e in events(globex)] == list(range(len(events(globex))))


def test_the_unique_position_constraint_backs_up_the_lock(acme):
    fill(acme, 1)
    event = events(acme)[-1]
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditEvent.objects.create(
            tenant=acme,
            seq=event.seq,
            event_type=event.event_type,
            occurred_at=event.occurred_at,
            canonical=event.canonical,
            leaf_hash=event.leaf_hash,
            chain_hash=event.chain_hash,
        )


def test_targets_that_are_not_people_keep_their_label_in_clear(acme):
    with transaction.atomic():
        audit.record(
            EventType.USER_CHANGED, tenant=acme, target=Target(type="permissions.role", id="3", label="Auditors")
        )
    [event] = events(acme, event_type=EventType.USER_CHANGED)
    assert event.payload["target"]["label"] == "Auditors"
