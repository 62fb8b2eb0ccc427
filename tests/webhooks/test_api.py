"""/api/v1/webhooks: the same services as the console, settings rights from the engine and the key."""

from __future__ import annotations

from standardwebhooks import Webhook

from accounts.scoping import tenant_scope
from tests.api.conftest import bearer, issue
from tests.webhooks.conftest import give_grant, run, subscribe
from webhooks.models import Delivery, Subscription


def test_create_list_change_rotate_and_delete(api_acme, acme_admin, receiver):
    created = api_acme.post(
        "/api/v1/webhooks",
        {"name": "ERP", "url": receiver.url, "event_types": ["grant.created"]},
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["secret"].startswith("whsec_")
    listed = api_acme.get("/api/v1/webhooks").json()
    assert [s["name"] for s in listed["results"]] == ["ERP"] and "secret" not in listed["results"][0]

    changed = api_acme.patch(
        f"/api/v1/webhooks/{body['id']}", {"event_types": ["grant.revoked"]}, content_type="application/json"
    )
    assert changed.status_code == 200 and changed.json()["event_types"] == ["grant.revoked"]

    rotated = api_acme.post(f"/api/v1/webhooks/{body['id']}/rotate-secret")
    assert rotated.status_code == 200 and rotated.json()["secret"] != body["secret"]
    assert api_acme.delete(f"/api/v1/webhooks/{body['id']}").status_code == 204
    with tenant_scope(acme_admin.tenant):
        assert not Subscription.objects.exists()


def test_deliveries_and_redelivery(api_acme, acme_admin, receiver):
    subscription, secret = subscribe(acme_admin, receiver.url)
    give_grant(acme_admin)
    run(acme_admin.tenant)
    log = api_acme.get(f"/api/v1/webhooks/{subscription.pk}/deliveries").json()["results"]
    assert log[0]["status"] == "delivered" and log[0]["log"][0]["status_code"] == 204
    again = api_acme.post(f"/api/v1/webhooks/{subscription.pk}/deliveries/{log[0]['id']}/redeliver")
    assert again.status_code == 202
    run(acme_admin.tenant)
    assert len(receiver.received) == 2
    Webhook(secret).verify(receiver.received[1].body, receiver.received[1].headers)


def test_a_private_target_is_refused_in_production(api_acme, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
    settings.WEBHOOKS_ALLOW_HTTP = False
    for url in ("http://example.com/hook", "https://127.0.0.1/hook", "https://10.1.2.3/hook", "https://[::1]/x"):
        answer = api_acme.post(
            "/api/v1/webhooks",
            {"name": "x", "url": url, "event_types": ["grant.created"]},
            content_type="application/json",
        )
        assert answer.status_code == 400, (url, answer.content)
        assert answer["Content-Type"].startswith("application/problem+json")


def test_denials_without_settings_rights_and_for_other_tenants(acme_admin, globex_admin, api_acme, receiver, client):
    from permissions.models import BuiltinRole
    from tests.conftest import login
    from tests.factories import UserFactory

    theirs, _secret = subscribe(globex_admin, receiver.url, name="Globex hook")
    assert api_acme.get(f"/api/v1/webhooks/{theirs.pk}").status_code == 404
    assert api_acme.post(f"/api/v1/webhooks/{theirs.pk}/rotate-secret").status_code == 404
    assert api_acme.delete(f"/api/v1/webhooks/{theirs.pk}").status_code == 404

    ours, _secret = subscribe(acme_admin, receiver.url)
    reader = bearer(issue(acme_admin, scopes={"settings": ["view"]})[1])  # a key without settings: change
    assert reader.get("/api/v1/webhooks").status_code == 200
    assert reader.post(f"/api/v1/webhooks/{ours.pk}/rotate-secret").status_code == 403
    advanced = UserFactory(tenant=acme_admin.tenant, role_key=BuiltinRole.ADVANCED)
    login(client, advanced)  # the portal's session on the API: the engine says no
    assert client.get("/api/v1/webhooks").status_code == 403
    assert client.get(f"/api/v1/webhooks/{ours.pk}/deliveries").status_code == 403
    with tenant_scope(acme_admin.tenant):
        assert Delivery.objects.count() == 0
        assert Subscription.objects.get(pk=ours.pk).previous_secret is None
