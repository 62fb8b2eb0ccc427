"""Issue 19, item 1: a home per persona. Administrators see what waits for them (four-eyes changes, access
requests, open and overdue reviews, flagged items, grants ending this week, recent audit events) with links;
a reviewer their open items by campaign and due date; everyone their access, requests and what ends soon.
Each figure is counted by the database whatever the size (a constant number of queries), and only shown to
whom the engine lets see the screen it links to."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from django.utils.html import escape

from accessrequests import services as request_services
from accounts.scoping import tenant_scope
from audit.models import AuditEvent
from permissions.models import Grant, Module
from permissions.services import grants
from permissions.vocabulary import Action
from reviews.models import ReviewCampaign, ReviewItem
from reviews.services import campaigns
from tests.conftest import login
from tests.factories import UserFactory
from tests.querycount import assert_constant_queries
from tests.reviews.helpers import age_user, grant_on, make_policy, make_reviewer

pytestmark = pytest.mark.django_db


def _section(html: str, testid: str) -> str:
    """The element marked ``data-testid=testid`` up to the next panel (enough for assertions)."""
    marker = f'data-testid="{testid}"'
    assert marker in html, f"{testid} is not on the page"
    return html.split(marker, 1)[1].split("</article>", 1)[0]


def _figure(html: str, testid: str) -> str:
    return _section(html, testid).split('class="figure', 1)[1].split(">", 1)[1].split("<", 1)[0]


def ask_export(tenant, user, days=14):
    with tenant_scope(tenant):
        reports = Module.objects.get(key="reports")
        return request_services.submit(
            actor=user, module=reports, actions=[Action.EXPORT], reason="Quarter end", duration_days=days
        )


def escalating_grant(tenant, admin, subject):
    """A grant of a console right: it waits for a second administrator (a PendingChange)."""
    with tenant_scope(tenant):
        return grants.grant(
            actor=admin, module=Module.objects.get(key="users"), user=subject, actions=[Action.VIEW], reason="Help desk"
        )


def expiring_grant(tenant, user, days, module_key="reports", action=Action.VIEW):
    made = grant_on(tenant, user, module_key, actions=(action,))
    with tenant_scope(tenant):
        Grant.objects.filter(pk=made.pk).update(expires_at=timezone.now() + timedelta(days=days))
    return made


@pytest.fixture
def open_campaign(acme, acme_admin):
    """An open campaign whose items go to a chosen reviewer; its due date already passed."""
    reviewer = make_reviewer(acme)
    for person in [UserFactory(tenant=acme) for _ in range(2)]:
        age_user(person, 300)
        grant_on(acme, person, resource_title=f"Report {person.pk}", created_days_ago=200)
    make_policy(
        acme,
        fallback=acme_admin,
        reviewer_kind="chosen",
        reviewers=[reviewer.pk],
        include_roles=False,
        start_date=timezone.now().date(),
    )
    with tenant_scope(acme):
        campaigns.open_due_campaigns(acme)
        campaign = ReviewCampaign.objects.get(state="open")
        ReviewCampaign.objects.filter(pk=campaign.pk).update(due_at=timezone.now() - timedelta(hours=1))
        ReviewItem.objects.filter(campaign=campaign, reviewer=reviewer).update(flagged=True)
        campaign.refresh_from_db()
    return campaign, reviewer


def test_the_administrators_home_counts_what_waits_and_links_to_it(acme, acme_admin, acme_basic, open_campaign):
    escalating_grant(acme, acme_admin, acme_basic)
    ask_export(acme, acme_basic)
    expiring_grant(acme, acme_basic, days=3)
    expiring_grant(acme, UserFactory(tenant=acme), days=20)  # not this week
    html = login(Client(), acme_admin).get("/").content.decode()

    assert _figure(html, "home-approvals") == "1" and 'href="/console/approvals/"' in html
    assert _figure(html, "home-requests") == "1" and 'href="/requests/queue/"' in html
    assert _figure(html, "home-campaigns") == "1" and 'data-testid="home-overdue"' in html
    assert _figure(html, "home-flags") == str(
        ReviewItem.objects.dangerously_all_tenants().filter(tenant=acme, flagged=True).count()
    )
    expiring = _section(html, "home-expiring")
    assert ">1</span>" in expiring and escape(acme_basic.display_name) in expiring and "Reports" in expiring
    events = _section(html, "home-events")
    with tenant_scope(acme):
        newest = AuditEvent.objects.order_by("-seq").first()
    assert events.count('href="/audit/events/') == 5 and f'href="/audit/events/{newest.pk}/"' in events
    assert escape(newest.get_event_type_label()) in events


def test_the_counts_are_on_the_navigation_too(acme, acme_admin, acme_basic):
    escalating_grant(acme, acme_admin, acme_basic)
    ask_export(acme, acme_basic)
    html = login(Client(), acme_admin).get("/console/users/").content.decode()
    counts = html.split('data-testid="nav-count"')
    assert len(counts) == 3  # pending approvals and access requests, each 1
    assert all(part.split(">", 1)[1].startswith("1<") for part in counts[1:])


def test_a_reviewers_home_lists_their_open_items_by_campaign_with_the_due_date(acme, open_campaign):
    campaign, reviewer = open_campaign
    html = login(Client(), reviewer).get("/").content.decode()
    panel = _section(html, "home-review-campaign")
    with tenant_scope(acme):
        mine = ReviewItem.objects.filter(reviewer=reviewer, decision="pending").count()
    assert mine and f">{mine}</a>" in panel
    assert escape(campaign.name) in panel and f"/reviews/mine/?campaign={campaign.pk}" in panel
    assert "Overdue since" in panel and campaign.due_at.strftime("%Y-%m-%d") in panel
    for figure in ("home-approvals", "home-requests", "home-expiring", "home-events"):
        assert f'data-testid="{figure}"' not in html, figure  # not an administrator's figures
    assert 'data-testid="home-campaigns"' in html  # reviews: view shows the campaigns' figures


def test_a_customers_home_shows_their_access_requests_and_what_ends_soon(acme, acme_basic):
    ask_export(acme, acme_basic)
    expiring_grant(acme, acme_basic, days=10)
    html = login(Client(), acme_basic).get("/").content.decode()
    assert 'data-testid="home-admin"' not in html and 'data-testid="home-reviews"' not in html
    assert "Reports" in _section(html, "home-my-requests") and "Pending" in _section(html, "home-my-requests")
    ending = _section(html, "home-my-expiring")
    assert "Reports" in ending and (timezone.now() + timedelta(days=10)).strftime("%Y-%m-%d") in ending
    assert "/m/products/" in _section(html, "home-modules")  # the Basic role views the products


def test_the_home_shows_the_previous_sign_in_never_the_current_one(acme, acme_basic):
    first = login(Client(), acme_basic).get("/").content.decode()
    assert "This is your first sign-in." in first
    second = login(Client(), acme_basic).get("/").content.decode()
    assert "Previous sign-in:" in second and "first sign-in" not in second
    shown = second.split('data-testid="previous-login"', 1)[1].split("</span>", 1)[0]
    assert "UTC" in shown and "a.m." not in shown and "p.m." not in shown


def test_the_administrators_home_costs_the_same_queries_with_more_data(acme, acme_admin, open_campaign):
    client = login(Client(), acme_admin)

    def grow():
        people = [UserFactory(tenant=acme) for _ in range(4)]
        for person in people:
            ask_export(acme, person)
            expiring_grant(acme, person, days=2)
            escalating_grant(acme, acme_admin, person)

    assert_constant_queries(client, "/", grow)


def test_a_customers_home_costs_the_same_queries_with_more_data(acme, acme_basic):
    client = login(Client(), acme_basic)

    def grow():
        ask_export(acme, acme_basic)
        for days in (3, 5, 8, 13, 21, 25):  # on a module the role opens already: the same modules listed
            expiring_grant(acme, acme_basic, days=days, module_key="products", action=Action.EXPORT)

    assert_constant_queries(client, "/", grow)
