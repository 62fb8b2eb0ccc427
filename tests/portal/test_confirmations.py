"""Issue 19, item 6: a destructive or irreversible action first says what will happen (a page that works without
any script), changes nothing until it is confirmed, and carries the form's fields to the confirmed post."""

from __future__ import annotations

from django.test import Client

from accounts.scoping import tenant_scope
from api import keys
from api.models import ApiKey
from permissions.models import GroupMembership
from permissions.services import groups as group_services
from tests.conftest import login


def test_removing_a_group_member_is_confirmed_first(admin_client_acme, acme, acme_basic):
    with tenant_scope(acme):
        team = group_services.create_group(actor=None, tenant=acme, name="Night shift")
        group_services.add_member(team, acme_basic, actor=None)
    url = f"/console/groups/{team.pk}/members/{acme_basic.pk}/"
    asked = admin_client_acme.post(url, {"op": "remove"})
    page = asked.content.decode()
    assert asked.status_code == 200 and 'data-testid="confirm-page"' in page
    assert "leaves the group Night shift now" in page and "lose what the group" in page
    assert '<input type="hidden" name="op" value="remove">' in page  # the same fields, posted again
    assert '<input type="hidden" name="confirmed" value="yes">' in page
    assert f'href="/console/groups/{team.pk}/"' in page  # cancel goes back
    with tenant_scope(acme):
        assert GroupMembership.objects.filter(group=team, user=acme_basic).exists()  # nothing changed yet
    done = admin_client_acme.post(url, {"op": "remove", "confirmed": "yes"})
    assert done.status_code == 302
    with tenant_scope(acme):
        assert not GroupMembership.objects.filter(group=team, user=acme_basic).exists()


def test_making_an_owner_needs_no_confirmation(admin_client_acme, acme, acme_basic):
    with tenant_scope(acme):
        team = group_services.create_group(actor=None, tenant=acme, name="Night shift")
        group_services.add_member(team, acme_basic, actor=None)
    response = admin_client_acme.post(f"/console/groups/{team.pk}/members/{acme_basic.pk}/", {"op": "owner"})
    assert response.status_code == 302  # nothing destructive: done at once


def test_a_foreign_id_is_still_a_404_before_any_confirmation(client_globex, acme, acme_basic):
    with tenant_scope(acme):
        team = group_services.create_group(actor=None, tenant=acme, name="Night shift")
    response = client_globex.post(f"/console/groups/{team.pk}/members/{acme_basic.pk}/", {"op": "remove"})
    assert response.status_code == 404


def test_revoking_an_api_key_is_confirmed_and_says_it_cannot_be_undone(admin_client_acme, acme, acme_admin):
    with tenant_scope(acme):
        issued = keys.create_key(actor=acme_admin, name="ERP", scopes={"users": ["view"]})
        key = ApiKey.objects.get(name="ERP")
    asked = admin_client_acme.post(f"/api/keys/{key.pk}/revoke", {"reason": "rotated"})
    page = asked.content.decode()
    assert "Revoke the API key ERP" in page and "cannot be used again" in page
    assert '<input type="hidden" name="reason" value="rotated">' in page
    with tenant_scope(acme):
        key.refresh_from_db()
        assert key.revoked_at is None
    admin_client_acme.post(f"/api/keys/{key.pk}/revoke", {"reason": "rotated", "confirmed": "yes"})
    with tenant_scope(acme):
        key.refresh_from_db()
        assert key.revoked_at is not None
    assert issued is not None


def test_a_confirmation_in_chinese(acme, acme_basic):
    from accounts import services

    with tenant_scope(acme):
        services.set_preferences(acme_basic, language="zh-hans", time_zone="")
    client = login(Client(), acme_basic)
    page = client.post("/accounts/security/sessions/").content.decode()
    assert "结束" in page and 'name="confirmed" value="yes"' in page


def test_cancelling_a_review_campaign_is_confirmed(admin_client_acme, acme, acme_admin):
    from django.utils import timezone

    from reviews.models import ReviewCampaign
    from reviews.services import campaigns
    from tests.factories import UserFactory
    from tests.reviews.helpers import grant_on, make_policy

    grant_on(acme, UserFactory(tenant=acme), resource_title="Q1 report", created_days_ago=200)
    make_policy(acme, fallback=acme_admin, start_date=timezone.now().date())
    with tenant_scope(acme):
        campaigns.open_due_campaigns(acme)
        campaign = ReviewCampaign.objects.get(state="open")
    url = f"/reviews/campaigns/{campaign.pk}/cancel/"
    asked = admin_client_acme.post(url, {"reason": "wrong scope"})
    assert asked.status_code == 200 and "no decision of it is applied" in asked.content.decode()
    assert '<input type="hidden" name="reason" value="wrong scope">' in asked.content.decode()
    with tenant_scope(acme):
        assert ReviewCampaign.objects.get(pk=campaign.pk).state == "open"
    admin_client_acme.post(url, {"reason": "wrong scope", "confirmed": "yes"})
    with tenant_scope(acme):
        assert ReviewCampaign.objects.get(pk=campaign.pk).state == "cancelled"
