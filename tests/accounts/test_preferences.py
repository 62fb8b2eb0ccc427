"""Issue 19, item 6: a person's own time zone (default: the tenant's), chosen on their preferences page; every date
is shown in the one date format in that zone, the zone named."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from accounts import services
from accounts.models import User
from accounts.scoping import dangerously_unscoped, tenant_scope
from audit.models import AuditEvent
from tests.conftest import login

# The login history shows each login in the one format: date, time, zone abbreviation.
SHOWN = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d ([A-Z+\-0-9]+)")


def zones_shown(client) -> set[str]:
    return set(SHOWN.findall(client.get("/accounts/security/history/").content.decode()))


def fresh(user) -> User:
    with dangerously_unscoped():
        return User.objects.get(pk=user.pk)


def test_the_tenants_zone_by_default_then_the_persons_own(acme, acme_basic):
    client = login(Client(), acme_basic)
    assert zones_shown(client) == {"UTC"}
    page = client.get("/accounts/preferences/").content.decode()
    assert "My organisation&#x27;s: UTC" in page and 'data-testid="shown-zone"' in page
    response = client.post("/accounts/preferences/", {"language": "", "time_zone": "Asia/Shanghai"})
    assert response.status_code == 302
    assert fresh(acme_basic).time_zone == "Asia/Shanghai"
    assert zones_shown(client) == {"CST"}
    assert "Asia/Shanghai" in client.get("/accounts/preferences/").content.decode()
    with tenant_scope(acme):
        event = AuditEvent.objects.filter(event_type="user.changed").latest("seq")
    assert event.actor_id == acme_basic.pk and str(acme_basic.pk) in event.target_id
    assert "Asia/Shanghai" in event.canonical


def test_a_tenant_zone_applies_to_whoever_chose_none(acme, acme_basic):
    with dangerously_unscoped():
        acme.time_zone = "Europe/Paris"
        acme.save(update_fields=["time_zone"])
    client = login(Client(), acme_basic)
    assert zones_shown(client) <= {"CET", "CEST"} and zones_shown(client)
    with tenant_scope(acme):
        services.set_preferences(fresh(acme_basic), language="", time_zone="America/New_York")
    assert zones_shown(client) <= {"EST", "EDT"} and zones_shown(client)


def test_an_unknown_zone_is_refused_and_changes_nothing(acme_basic):
    client = login(Client(), acme_basic)
    response = client.post("/accounts/preferences/", {"language": "", "time_zone": "Mars/Olympus_Mons"})
    assert response.status_code == 200 and 'class="field-error"' in response.content.decode()
    assert fresh(acme_basic).time_zone == ""
    with pytest.raises(ValidationError, match="not a known time zone"):
        with tenant_scope(acme_basic.tenant):
            services.set_preferences(acme_basic, language="", time_zone="Mars/Olympus_Mons")
    assert fresh(acme_basic).time_zone == ""


def test_the_language_is_a_preference_too(acme_basic):
    client = login(Client(), acme_basic)
    client.post("/accounts/preferences/", {"language": "zh-hans", "time_zone": ""})
    assert fresh(acme_basic).language == "zh-hans"
    assert "偏好" in client.get("/accounts/preferences/").content.decode()


def test_the_page_is_in_my_account_menu(acme_basic):
    page = login(Client(), acme_basic).get("/accounts/preferences/").content.decode()
    assert 'href="/accounts/preferences/" aria-current="page"' in page
