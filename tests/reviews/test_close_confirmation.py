"""Issue 19: "Close now" asks first, and says what closing does (how many items are still undecided and what
they become, whether the decisions are applied at once); without the confirmation nothing changes."""

from html import unescape

import pytest
from django.test import Client
from django.utils import timezone

from accounts.scoping import tenant_scope
from reviews.models import ReviewCampaign, ReviewItem
from reviews.services import campaigns
from tests.conftest import login
from tests.factories import UserFactory
from tests.reviews.helpers import age_user, grant_on, make_policy

pytestmark = pytest.mark.django_db


@pytest.fixture
def campaign(acme, acme_admin, acme_reviewer):
    for person in [UserFactory(tenant=acme) for _ in range(3)]:
        age_user(person, 300)
        grant_on(acme, person, resource_title=f"Report {person.pk}", created_days_ago=200)
    make_policy(
        acme,
        fallback=acme_admin,
        reviewer_kind="chosen",
        reviewers=[acme_reviewer.pk],
        include_roles=False,
        unanswered="revoke",
        start_date=timezone.now().date(),
    )
    with tenant_scope(acme):
        campaigns.open_due_campaigns(acme)
        return ReviewCampaign.objects.get(state="open")


def state_of(acme, campaign):
    with tenant_scope(acme):
        return ReviewCampaign.objects.get(pk=campaign.pk).state


def test_the_detail_page_links_to_a_confirmation_not_a_form_that_closes(admin_client_acme, campaign):
    html = admin_client_acme.get(f"/reviews/campaigns/{campaign.pk}/").content.decode()
    link = html.split('data-testid="close-campaign"', 1)[0].rsplit("<", 1)[1]
    assert link.startswith("a ") and f"/reviews/campaigns/{campaign.pk}/close/" in link


def test_the_confirmation_says_what_closing_does_and_changes_nothing(admin_client_acme, acme, campaign):
    with tenant_scope(acme):
        undecided = ReviewItem.objects.filter(campaign=campaign, decision="pending").count()
    for response in (
        admin_client_acme.get(f"/reviews/campaigns/{campaign.pk}/close/"),
        admin_client_acme.post(f"/reviews/campaigns/{campaign.pk}/close/"),  # no confirmation: the page again
    ):
        html = unescape(response.content.decode())
        assert response.status_code == 200
        assert f"{undecided} undecided items get the policy's default: Revoke the access." in html
        assert "The decisions are then applied" in html and 'name="confirm" value="1"' in html
        assert state_of(acme, campaign) == ReviewCampaign.State.OPEN
    confirmed = admin_client_acme.post(f"/reviews/campaigns/{campaign.pk}/close/", {"confirm": "1"})
    assert confirmed.status_code == 302
    assert state_of(acme, campaign) in (ReviewCampaign.State.CLOSED, ReviewCampaign.State.APPLIED)


def test_a_closed_campaign_has_nothing_to_confirm(admin_client_acme, acme, campaign):
    admin_client_acme.post(f"/reviews/campaigns/{campaign.pk}/close/", {"confirm": "1"})
    again = admin_client_acme.get(f"/reviews/campaigns/{campaign.pk}/close/")
    assert again.status_code == 302 and again["Location"] == f"/reviews/campaigns/{campaign.pk}/"


def test_only_those_who_may_change_campaigns_see_the_confirmation(acme, campaign, acme_reviewer):
    reviewer = login(Client(), acme_reviewer)
    assert reviewer.get(f"/reviews/campaigns/{campaign.pk}/close/").status_code == 403
    assert reviewer.post(f"/reviews/campaigns/{campaign.pk}/close/", {"confirm": "1"}).status_code == 403
    assert state_of(acme, campaign) == ReviewCampaign.State.OPEN
