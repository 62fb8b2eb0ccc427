"""The console's webhook screens: settings: view to look, settings: change to act; secrets shown once."""

from __future__ import annotations

import re

from accounts.scoping import tenant_scope
from audit.models import AuditEvent
from permissions.models import BuiltinRole
from tests.conftest import login
from tests.factories import UserFactory
from tests.webhooks.conftest import give_grant, run, subscribe
from webhooks.models import Delivery, Subscription


def test_an_administrator_creates_a_webhook_and_sees_its_secret_once(admin_client_acme, acme_admin, receiver):
    page = admin_client_acme.get("/console/webhooks/new/")
    assert page.status_code == 200 and b'type="checkbox"' in page.content
    response = admin_client_acme.post(
        "/console/webhooks/new/",
        {"name": "CRM", "url": receiver.url, "event_types": ["grant.created", "user.deactivated"]},
    )
    assert response.status_code == 200
    secret = re.search(r'data-testid="secret">(whsec_[A-Za-z0-9+/=]+)<', response.content.decode())[1]
    with tenant_scope(acme_admin.tenant):
        subscription = Subscription.objects.get()
        assert subscription.secret == secret
        assert AuditEvent.objects.filter(event_type="webhook.created").count() == 1
    assert subscription.event_types == ["grant.created", "user.deactivated"]
    detail = admin_client_acme.get(f"/console/webhooks/{subscription.pk}/")
    assert detail.status_code == 200 and secret not in detail.content.decode()
    listing = admin_client_acme.get("/console/webhooks/")
    assert b"CRM" in listing.content and b'href="/console/webhooks/"' in listing.content  # the menu entry


def test_bad_targets_are_refused_with_a_message_and_nothing_saved(admin_client_acme, acme_admin):
    response = admin_client_acme.post(
        "/console/webhooks/new/", {"name": "CRM", "url": "ftp://example.com/x", "event_types": ["grant.created"]}
    )
    assert response.status_code == 200 and b"https://" in response.content
    with tenant_scope(acme_admin.tenant):
        assert not Subscription.objects.exists()


def test_rotate_delivery_log_and_redeliver(admin_client_acme, acme_admin, receiver):
    subscription, old = subscribe(acme_admin, receiver.url)
    give_grant(acme_admin)
    receiver.answers.append(500)
    run(acme_admin.tenant)
    detail = admin_client_acme.get(f"/console/webhooks/{subscription.pk}/").content.decode()
    assert "grant.created" in detail and "500" in detail and " ms)" in detail

    rotated = admin_client_acme.post(f"/console/webhooks/{subscription.pk}/rotate/")
    new = re.search(r'data-testid="secret">(whsec_[^<]+)<', rotated.content.decode())[1]
    assert new != old

    with tenant_scope(acme_admin.tenant):
        delivery = Delivery.objects.get()
    url = f"/console/webhooks/{subscription.pk}/deliveries/{delivery.pk}/redeliver/"
    assert admin_client_acme.get(url).status_code == 200
    assert admin_client_acme.post(url).status_code == 302
    with tenant_scope(acme_admin.tenant):
        assert Delivery.objects.filter(manual=True).count() == 1


def test_a_user_without_settings_rights_is_refused(client, acme_admin, receiver):
    subscription, _secret = subscribe(acme_admin, receiver.url)
    basic = UserFactory(tenant=acme_admin.tenant, role_key=BuiltinRole.BASIC)
    login(client, basic)
    for url in ("/console/webhooks/", "/console/webhooks/new/", f"/console/webhooks/{subscription.pk}/"):
        assert client.get(url).status_code == 403, url
    posted = client.post(f"/console/webhooks/{subscription.pk}/rotate/")
    assert posted.status_code == 403
    with tenant_scope(acme_admin.tenant):
        assert not AuditEvent.objects.filter(event_type="webhook.secret_rotated").exists()


def test_another_tenants_webhook_is_404_and_untouched(admin_client_acme, globex_admin, receiver):
    subscription, _secret = subscribe(globex_admin, receiver.url, name="Globex hook")
    for url in (f"/console/webhooks/{subscription.pk}/", f"/console/webhooks/{subscription.pk}/rotate/"):
        assert admin_client_acme.get(url).status_code == 404
        assert admin_client_acme.post(url).status_code == 404
    with tenant_scope(globex_admin.tenant):
        subscription.refresh_from_db()
        assert subscription.previous_secret is None
