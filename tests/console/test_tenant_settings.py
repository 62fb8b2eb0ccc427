"""Tenant security settings in the console (issue 13 item 4): audited, behind a step-up; weakening a setting
is a four-eyes change; each setting is enforced (password length, invitation domains, console addresses)."""

import datetime as dt

import pytest
import time_machine
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client

from accounts import services
from accounts.models import Tenant
from accounts.scoping import tenant_scope
from audit.events import EventType
from audit.models import AuditEvent
from permissions.models import PendingChange
from permissions.services import changes
from tests.conftest import login
from tests.console.conftest import messages_of

URL = "/console/settings/"


def form_of(tenant, **changes):
    data = {
        "mfa_policy": tenant.mfa_policy,
        "session_idle_minutes": tenant.session_idle_minutes,
        "credential_min_length": tenant.credential_min_length,
        "review_cadence": tenant.review_cadence,
        "review_duration_days": tenant.review_duration_days,
        "request_max_days": tenant.request_max_days,
        "invitation_domains": tenant.invitation_domains,
        "console_networks": tenant.console_networks,
        "dormancy_days": tenant.dormancy_days,
        "dormancy_warning_days": tenant.dormancy_warning_days,
        "appeal_due_days": tenant.appeal_due_days,
        "reason": "security review",
    }
    data.update(changes)
    return data


def settings_events(tenant):
    with tenant_scope(tenant):
        return list(AuditEvent.objects.filter(event_type=EventType.TENANT_SETTINGS_CHANGED))


def test_strengthening_applies_after_a_step_up_and_is_audited(acme, acme_admin):
    client = login(Client(), acme_admin)
    assert client.get(URL).status_code == 200
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=11)
    with time_machine.travel(later):
        response = client.post(URL, form_of(acme, session_idle_minutes=15, credential_min_length=16))
    assert response["Location"].startswith("/accounts/mfa/step-up/")
    assert Tenant.objects.get(pk=acme.pk).session_idle_minutes == 30  # nothing before the step-up
    response = client.post(URL, form_of(acme, session_idle_minutes=15, credential_min_length=16), follow=True)
    assert "The settings were saved." in " ".join(messages_of(response))
    acme.refresh_from_db()
    assert (acme.session_idle_minutes, acme.credential_min_length) == (15, 16)
    [event] = settings_events(acme)
    assert event.after == {"session_idle_minutes": 15, "credential_min_length": 16} and event.actor_id == acme_admin.pk


@pytest.mark.parametrize(
    "weaker",
    [
        {"mfa_policy": "privileged"},
        {"session_idle_minutes": 60},
        {"credential_min_length": 12},
        {"review_cadence": "yearly"},
        {"request_max_days": 365},
    ],
)
def test_weakening_a_setting_is_a_four_eyes_change(acme, acme_admin, acme_admin2, weaker):
    Tenant.objects.filter(pk=acme.pk).update(credential_min_length=14)
    acme.refresh_from_db()
    before = {field: getattr(acme, field) for field in weaker}
    client = login(Client(), acme_admin)
    response = client.post(URL, form_of(acme, **weaker), follow=True)
    assert "waits for a second administrator" in " ".join(messages_of(response))
    acme.refresh_from_db()
    assert {field: getattr(acme, field) for field in weaker} == before and settings_events(acme) == []
    with tenant_scope(acme):
        change = PendingChange.objects.get(kind=PendingChange.Kind.SETTINGS)
        with pytest.raises(Exception):  # noqa: B017,PT011 (never one's own)
            changes.approve_change(change, actor=acme_admin)
        changes.approve_change(change, actor=acme_admin2)
    acme.refresh_from_db()
    assert {field: str(getattr(acme, field)) for field in weaker} == {k: str(v) for k, v in weaker.items()}
    [event] = settings_events(acme)
    assert event.actor_id == acme_admin.pk and "approved_by" in event.after


def test_widening_an_allow_list_is_weakening_narrowing_is_not(acme, acme_admin):
    with tenant_scope(acme):
        Tenant.objects.filter(pk=acme.pk).update(invitation_domains="acme.example\npartner.example")
        acme.refresh_from_db()
        assert services.weakened_settings(acme, {"invitation_domains": "acme.example"}) == []
        assert services.weakened_settings(acme, {"invitation_domains": "acme.example\nevil.example"}) == [
            "invitation_domains"
        ]
        assert services.weakened_settings(acme, {"invitation_domains": ""}) == ["invitation_domains"]
        assert services.weakened_settings(acme, {"console_networks": "10.0.0.0/8"}) == []


def test_keeping_dormant_accounts_longer_or_answering_appeals_later_is_weakening(acme):
    """Issue 17: the dormancy policy and the appeals' due time are security settings too."""
    assert services.weakened_settings(acme, {"dormancy_days": 60, "appeal_due_days": 2}) == []
    assert services.weakened_settings(acme, {"dormancy_days": 120}) == ["dormancy_days"]
    assert services.weakened_settings(acme, {"dormancy_days": 0}) == ["dormancy_days"]
    assert services.weakened_settings(acme, {"appeal_due_days": 10}) == ["appeal_due_days"]
    acme.dormancy_days = 0
    assert services.weakened_settings(acme, {"dormancy_days": 365}) == []  # turning it on strengthens


def test_a_user_without_settings_change_reads_but_cannot_save(acme, acme_basic):
    client = login(Client(), acme_basic)
    assert client.get(URL).status_code in (403, 404)
    client.post(URL, form_of(acme, session_idle_minutes=720))
    acme.refresh_from_db()
    assert acme.session_idle_minutes == 30


def test_bad_values_are_refused_and_change_nothing(acme, acme_admin):
    client = login(Client(), acme_admin)
    response = client.post(URL, form_of(acme, invitation_domains="not a domain", console_networks="10.0.0.300/8"))
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"invitation_domains", "console_networks"}
    assert settings_events(acme) == []


def test_the_tenant_password_length_is_enforced(acme, acme_basic):
    validate_password("a-long-enough-pass", acme_basic)
    Tenant.objects.filter(pk=acme.pk).update(credential_min_length=20)
    acme_basic.tenant.refresh_from_db()
    with pytest.raises(ValidationError):
        validate_password("a-long-enough-pass", acme_basic)


def test_invitations_go_only_to_the_allowed_domains(acme, acme_admin):
    Tenant.objects.filter(pk=acme.pk).update(invitation_domains="acme.example")
    client = login(Client(), acme_admin)
    with tenant_scope(acme):
        basic = acme.roles.get(key="basic")
    response = client.post("/console/users/invite/", {"email": "eve@elsewhere.example", "role": basic.pk})
    assert response.status_code == 200 and "Invitations go only to these domains" in response.content.decode()
    response = client.post("/console/users/invite/", {"email": "new@acme.example", "role": basic.pk})
    assert response.status_code == 302


def test_the_console_answers_only_inside_the_allowed_ranges(acme, acme_admin):
    client = login(Client(), acme_admin)
    # Saving a list that shuts out one's own address is refused.
    response = client.post(URL, form_of(acme, console_networks="203.0.113.0/24"))
    assert response.status_code == 200 and "you would be shut out" in response.content.decode()
    response = client.post(URL, form_of(acme, console_networks="127.0.0.0/8\n203.0.113.0/24"), follow=True)
    assert "The settings were saved." in " ".join(messages_of(response))
    assert client.get("/console/users/").status_code == 200
    outside = client.get("/console/users/", REMOTE_ADDR="198.51.100.7")
    assert outside.status_code == 403
    forged = client.get("/console/users/", REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR="127.0.0.1")
    assert forged.status_code == 403
    assert client.get("/audit/", REMOTE_ADDR="198.51.100.7").status_code == 403
