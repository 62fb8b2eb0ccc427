"""Alerts on unusual use: use counts, a planted burst, the alert page, step-up until resolved, audit."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accounts.scoping import tenant_scope
from intelligence import counting, presenting
from intelligence.models import Alert, UsageCount
from intelligence.services import anomalies
from permissions.models import Module
from permissions.services.errors import AccessRefused
from permissions.usage import record_use
from tests.conftest import login
from tests.intelligence.conftest import event_types

pytestmark = pytest.mark.django_db


def plant_burst(tenant, user, module_key="reports", action="export", today=150):
    """Four weeks of two uses a day at 10:00, then ``today`` uses in the current hour."""
    now = timezone.now()
    with tenant_scope(tenant):
        module = Module.objects.get(key=module_key)
        hour = now.replace(minute=0, second=0, microsecond=0)
        rows = [
            UsageCount(tenant=tenant, user=user, module=module, action=action, count=2,
                       hour=(hour - timedelta(days=d)).replace(hour=10))
            for d in range(1, 29)
        ]  # fmt: skip
        rows.append(UsageCount(tenant=tenant, user=user, module=module, action=action, hour=hour, count=today))
        UsageCount.objects.bulk_create(rows)


def test_every_use_is_counted_per_hour_and_costs_no_query(acme, acme_basic, django_assert_num_queries):
    with tenant_scope(acme):
        products = Module.objects.get(key="products")
    record_use(acme_basic, "view", products)
    with django_assert_num_queries(0):
        record_use(acme_basic, "view", products)
        record_use(acme_basic, "view", products)
    assert counting.flush() == 1
    with tenant_scope(acme):
        row = UsageCount.objects.get(user=acme_basic)
    assert (row.action, row.count, row.module.key) == ("view", 3, "products")


def test_a_planted_burst_raises_one_audited_alert(acme, acme_basic):
    plant_burst(acme, acme_basic)
    with tenant_scope(acme):
        assert anomalies.detect(acme) >= 1
        alert = Alert.objects.get(kind="burst")
        assert alert.user == acme_basic and alert.detail["count"] == 150
        assert anomalies.detect(acme) == 0  # once per day and right
    assert event_types(acme, "intelligence.alert_raised").count("intelligence.alert_raised") >= 1


def test_ordinary_use_raises_no_burst(acme, acme_basic):
    plant_burst(acme, acme_basic, today=3)
    with tenant_scope(acme):
        anomalies.detect(acme)
        assert not Alert.objects.filter(kind="burst").exists()


def test_the_administrator_sees_the_alert_in_words(admin_client_acme, acme, acme_basic):
    plant_burst(acme, acme_basic)
    with tenant_scope(acme):
        anomalies.detect(acme)
    page = admin_client_acme.get("/console/intelligence/alerts/").content.decode()
    assert "150 uses of Export today, above the usual ceiling of 20" in page  # the action by its name


def test_step_up_is_required_until_the_alert_is_resolved(acme, acme_admin, acme_basic):
    plant_burst(acme, acme_basic)
    with tenant_scope(acme):
        anomalies.detect(acme)
        alert = Alert.objects.get(kind="burst")
    user = login(Client(), acme_basic)
    assert user.get("/").status_code == 200
    admin = login(Client(), acme_admin)
    done = admin.post(f"/console/intelligence/alerts/{alert.pk}/", {"step": "stepup", "reason": "burst of exports"})
    assert done.status_code == 302
    with tenant_scope(acme):
        assert Alert.objects.get(pk=alert.pk).stepup_required
    response = user.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/mfa/step-up/")
    admin.post(f"/console/intelligence/alerts/{alert.pk}/", {"step": "resolve"})
    assert user.get("/").status_code == 200
    kinds = event_types(acme, "intelligence.alert")
    assert "intelligence.alert_stepup" in kinds and "intelligence.alert_resolved" in kinds


def test_a_basic_user_cannot_act_on_alerts(acme, acme_basic):
    plant_burst(acme, acme_basic)
    with tenant_scope(acme):
        anomalies.detect(acme)
        alert = Alert.objects.get(kind="burst")
        with pytest.raises(AccessRefused):
            anomalies.require_stepup(alert, actor=acme_basic)
    response = login(Client(), acme_basic).post(f"/console/intelligence/alerts/{alert.pk}/", {"step": "resolve"})
    assert response.status_code == 403
    with tenant_scope(acme):
        assert Alert.objects.get(pk=alert.pk).resolved_at is None


def test_another_tenants_alert_is_404(acme, acme_basic, globex_admin_client):
    plant_burst(acme, acme_basic)
    with tenant_scope(acme):
        anomalies.detect(acme)
        alert = Alert.objects.get(kind="burst")
    response = globex_admin_client.post(f"/console/intelligence/alerts/{alert.pk}/", {"step": "resolve"})
    assert response.status_code == 404


def test_a_right_nobody_alike_used_raises_a_first_of_its_kind_alert(acme, acme_basic):
    from tests.factories import UserFactory

    for n in range(3):
        UserFactory(tenant=acme, email=f"peer{n}@acme.example")
    with tenant_scope(acme):
        module = Module.objects.get(key="reports")
        hour = timezone.now().replace(minute=0, second=0, microsecond=0)
        UsageCount.objects.create(tenant=acme, user=acme_basic, module=module, action="export", hour=hour, count=1)
        anomalies.detect(acme)
        alert = Alert.objects.get(kind="first")
        assert alert.detail["peers"] == 3 and alert.user == acme_basic
    text = presenting.alert_text(alert.kind, alert.detail, alert.action)
    assert "none of the 3 users with the same role used it in the last 90 days" in text
