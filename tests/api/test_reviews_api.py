"""/api/v1/review-campaigns and /api/v1/review-items: reads filtered by who asks, decisions through the
same service as "My reviews" (only the assigned reviewer, while the campaign is open, with justification)."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accounts.scoping import tenant_scope
from audit.models import AuditEvent
from permissions.models import BuiltinRole, Module
from permissions.services import grants
from permissions.vocabulary import Action
from reviews.models import ReviewCampaign, ReviewItem
from reviews.services import campaigns
from tests.api.conftest import bearer, issue
from tests.conftest import login
from tests.factories import UserFactory
from tests.querycount import assert_constant_queries
from tests.reviews.helpers import grant_on, make_policy

ITEMS = "/api/v1/review-items"
CAMPAIGNS = "/api/v1/review-campaigns"


def _post(client, url, body=None):
    return client.post(url, body or {}, content_type="application/json")


@pytest.fixture
def reviewer(acme):
    """Holds reviews: review only (no view): sees the items assigned to them, nothing else."""
    user = UserFactory(tenant=acme, email="reviewer@acme.example", role_key=BuiltinRole.ADVANCED)
    with tenant_scope(acme):
        grants.grant(
            actor=None, module=Module.objects.get(key="reviews"), user=user, actions=[Action.REVIEW], reason="Reviewer"
        )
    return user


@pytest.fixture
def subjects(acme):
    people = [UserFactory(tenant=acme, email=f"subject{n}@acme.example") for n in range(2)]
    return [grant_on(acme, person) for person in people]


@pytest.fixture
def campaign(acme, acme_admin, reviewer, subjects):
    """An open campaign of grants; the reviewer is chosen, the administrator is the fallback."""
    make_policy(
        acme,
        fallback=acme_admin,
        start_date=timezone.now().date(),
        include_roles=False,
        reviewer_kind="chosen",
        reviewers=[reviewer.pk],
    )
    with tenant_scope(acme):
        assert campaigns.open_due_campaigns(acme) == 1
        return ReviewCampaign.objects.get(state="open")


@pytest.fixture
def reviewer_client(reviewer):
    """The reviewer's own session (keys are made by holders of settings: change, for themselves)."""
    return login(Client(), reviewer)


def _items_of(acme, campaign, reviewer):
    with tenant_scope(acme):
        return list(ReviewItem.objects.filter(campaign=campaign, reviewer=reviewer).order_by("id"))


def test_a_reviewer_reads_only_the_items_assigned_to_them(acme, campaign, reviewer, reviewer_client, subjects):
    listed = reviewer_client.get(ITEMS)
    assert listed.status_code == 200, listed.content
    rows = listed.json()["results"]
    assert sorted(r["grant"] for r in rows) == sorted(g.pk for g in subjects)
    assert {r["reviewer"] for r in rows} == {reviewer.pk}
    assert all(r["access"].startswith("Grant #") and r["reasons"] and r["reasons"][0]["text"] for r in rows)
    with tenant_scope(acme):  # their own access is routed to the fallback: never shown to them
        own = ReviewItem.objects.get(campaign=campaign, user=reviewer)
    assert reviewer_client.get(f"{ITEMS}/{own.pk}").status_code == 404
    assert reviewer_client.get(CAMPAIGNS).status_code == 403  # campaigns need reviews: view


def test_the_reviewer_decides_with_the_justification_the_policy_asks_for(acme, campaign, reviewer, reviewer_client):
    first, second = _items_of(acme, campaign, reviewer)
    refused = _post(reviewer_client, f"{ITEMS}/{first.pk}/decide", {"decision": "revoke"})
    assert refused.status_code == 400 and refused.json()["code"] == "invalid"
    assert "justification" in refused.json()["errors"][0]["detail"]
    revoked = _post(reviewer_client, f"{ITEMS}/{first.pk}/decide", {"decision": "revoke", "justification": "Left"})
    assert revoked.status_code == 200 and revoked.json()["decision"] == "revoke"
    kept = _post(reviewer_client, f"{ITEMS}/{second.pk}/decide", {"decision": "keep"})
    assert kept.status_code == 200 and kept.json()["decided_by"] == reviewer.pk
    with tenant_scope(acme):
        events = AuditEvent.objects.filter(event_type="review.decided").order_by("seq")
        assert [(e.target_id, e.after["decision"]) for e in events] == [
            (str(first.pk), "revoke"),
            (str(second.pk), "keep"),
        ]
    unknown = _post(reviewer_client, f"{ITEMS}/{second.pk}/decide", {"decision": "pending"})
    assert unknown.status_code == 400 and unknown.json()["errors"][0]["field"] == "decision"


def test_reduce_a_grant_to_an_earlier_expiry(acme, campaign, reviewer, reviewer_client):
    item = _items_of(acme, campaign, reviewer)[0]
    past = _post(
        reviewer_client,
        f"{ITEMS}/{item.pk}/decide",
        {"decision": "reduce", "justification": "Less", "reduce_expires_at": "2020-01-01T00:00:00Z"},
    )
    assert past.status_code == 400
    when = (timezone.now() + timedelta(days=10)).isoformat()
    reduced = _post(
        reviewer_client,
        f"{ITEMS}/{item.pk}/decide",
        {"decision": "reduce", "justification": "Until the project ends", "reduce_expires_at": when},
    )
    assert reduced.status_code == 200, reduced.content
    assert reduced.json()["decision"] == "reduce" and reduced.json()["reduce_expires_at"]


def test_an_administrator_reads_every_item_but_decides_only_their_own(acme, acme_admin, campaign, reviewer, api_acme):
    with tenant_scope(acme):
        everything = ReviewItem.objects.filter(campaign=campaign).count()
        theirs = ReviewItem.objects.get(campaign=campaign, reviewer=acme_admin)  # the reviewer's own grant
    listed = api_acme.get(f"{ITEMS}?campaign={campaign.pk}")
    assert len(listed.json()["results"]) == everything == 3
    assert len(api_acme.get(f"{ITEMS}?mine=1").json()["results"]) == 1
    others = _items_of(acme, campaign, reviewer)[0]
    refused = _post(api_acme, f"{ITEMS}/{others.pk}/decide", {"decision": "keep"})
    assert refused.status_code == 403 and refused.json()["code"] == "not_reviewer"
    mine = _post(api_acme, f"{ITEMS}/{theirs.pk}/decide", {"decision": "keep", "justification": "Still reviewing"})
    assert mine.status_code == 200


def test_decisions_stop_when_the_campaign_closes(acme, campaign, reviewer, reviewer_client):
    item = _items_of(acme, campaign, reviewer)[0]
    with tenant_scope(acme):
        campaigns.close_campaign(campaign, actor=None)
    response = _post(reviewer_client, f"{ITEMS}/{item.pk}/decide", {"decision": "keep"})
    assert response.status_code == 409 and response.json()["code"] == "campaign_not_open"
    with tenant_scope(acme):
        assert ReviewItem.objects.get(pk=item.pk).decided_by_id is None


def test_reassign_to_another_reviewer_of_the_tenant(
    acme, acme_admin, campaign, reviewer, reviewer_client, globex_admin
):
    item = _items_of(acme, campaign, reviewer)[0]
    to_foreign = _post(reviewer_client, f"{ITEMS}/{item.pk}/reassign", {"to": globex_admin.pk, "reason": "Holiday"})
    assert to_foreign.status_code == 400 and to_foreign.json()["errors"][0]["field"] == "to"
    no_reason = _post(reviewer_client, f"{ITEMS}/{item.pk}/reassign", {"to": acme_admin.pk, "reason": ""})
    assert no_reason.status_code == 400
    moved = _post(reviewer_client, f"{ITEMS}/{item.pk}/reassign", {"to": acme_admin.pk, "reason": "Holiday"})
    assert moved.status_code == 200 and moved.json()["reviewer"] == acme_admin.pk
    assert reviewer_client.get(f"{ITEMS}/{item.pk}").status_code == 404  # no longer theirs


def test_campaign_detail_shows_progress(acme, campaign, reviewer, reviewer_client, api_acme):
    item = _items_of(acme, campaign, reviewer)[0]
    _post(reviewer_client, f"{ITEMS}/{item.pk}/decide", {"decision": "keep"})
    listed = api_acme.get(f"{CAMPAIGNS}?state=open").json()["results"]
    assert [c["id"] for c in listed] == [campaign.pk]
    detail = api_acme.get(f"{CAMPAIGNS}/{campaign.pk}").json()
    assert detail["state"] == "open" and detail["item_count"] == 3
    assert detail["progress"]["total"] == 3 and detail["progress"]["decided"] == 1
    assert detail["progress"]["by_decision"] == {"keep": 1, "pending": 2}


def test_people_without_review_rights_are_refused(acme, acme_basic, campaign):
    client = login(Client(), acme_basic)
    for url in (ITEMS, CAMPAIGNS, f"{CAMPAIGNS}/{campaign.pk}"):
        response = client.get(url)
        assert response.status_code == 403, url
        assert response["Content-Type"] == "application/problem+json"


def test_a_key_without_the_review_scope_cannot_decide(acme, acme_admin, campaign):
    with tenant_scope(acme):
        theirs = ReviewItem.objects.get(campaign=campaign, reviewer=acme_admin)
    reader = bearer(issue(acme_admin, scopes={"reviews": ["view"]})[1])
    assert reader.get(f"{ITEMS}/{theirs.pk}").status_code == 200
    assert _post(reader, f"{ITEMS}/{theirs.pk}/decide", {"decision": "keep", "justification": "x"}).status_code == 403


@pytest.mark.parametrize("url", [ITEMS, CAMPAIGNS])
def test_lists_cost_the_same_queries_whatever_their_length(acme, acme_admin, campaign, api_acme, url):
    def grow():
        for _ in range(4):
            grant_on(acme, UserFactory(tenant=acme))
        make_policy(acme, fallback=acme_admin, name="Another", start_date=timezone.now().date(), include_roles=False)
        with tenant_scope(acme):
            campaigns.open_due_campaigns(acme)

    assert_constant_queries(api_acme, url, grow)
