"""The reviewer's workspace (issue 19, item 4): header and progress, the filter bar, row selection and
"all matching the filter", bulk confirmations that list what they decide and what they skip, and denials."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accounts.scoping import tenant_scope
from reviews.models import ReviewCampaign, ReviewItem
from reviews.services import campaigns
from tests.conftest import login
from tests.factories import UserFactory
from tests.querycount import assert_constant_queries
from tests.reviews.helpers import age_user, foreign_review, grant_on, make_policy, make_reviewer

pytestmark = pytest.mark.django_db


def _open(tenant, admin, reviewer, people=3, name="Quarterly review"):
    for person in [UserFactory(tenant=tenant) for _ in range(people)]:
        age_user(person, 300)
        grant_on(tenant, person, resource_title=f"Report {person.pk}", created_days_ago=200)
    make_policy(
        tenant,
        name=name,
        fallback=admin,
        reviewer_kind="chosen",
        reviewers=[reviewer.pk],
        include_roles=False,
        start_date=timezone.now().date(),
    )
    with tenant_scope(tenant):
        campaigns.open_due_campaigns(tenant)
        return ReviewCampaign.objects.filter(state="open", policy__name=name).get()


@pytest.fixture
def campaign(acme, acme_admin, acme_reviewer):
    return _open(acme, acme_admin, acme_reviewer)


@pytest.fixture
def reviewer_client(acme_reviewer):
    return login(Client(), acme_reviewer)


def _mine(acme, reviewer, **lookup):
    with tenant_scope(acme):
        return list(ReviewItem.objects.filter(reviewer=reviewer, **lookup).select_related("user").order_by("id"))


def _set(acme, item, **values):
    with tenant_scope(acme):
        ReviewItem.objects.filter(pk=item.pk).update(**values)


def _shown(page: str, items) -> set[int]:
    return {item.pk for item in items if f'id="item-{item.pk}"' in page}


def _grow(acme, campaign, reviewer, count):
    """``count`` more items of the reviewer in the campaign (copies of one, on other access keys)."""
    with tenant_scope(acme):
        source = ReviewItem.objects.filter(reviewer=reviewer, campaign=campaign).first()
        ReviewItem.objects.bulk_create(
            ReviewItem(
                tenant=acme,
                campaign=campaign,
                access_key=f"grant:copy{n}",
                kind="grant",
                user_id=source.user_id,
                grant_id=source.grant_id,
                snapshot=source.snapshot,
                evidence=source.evidence,
                reasons=source.reasons,
                flagged=source.flagged,
                unused=source.unused,
                recommendation=source.recommendation,
                reviewer=reviewer,
            )
            for n in range(count)
        )


def test_the_header_names_the_campaign_its_due_date_and_the_reviewers_progress(
    acme, campaign, acme_reviewer, reviewer_client
):
    first = _mine(acme, acme_reviewer)[0]
    reviewer_client.post(f"/reviews/items/{first.pk}/decide/", {"decision": "revoke", "justification": "left"})
    page = reviewer_client.get("/reviews/mine/").content.decode()
    assert 'data-testid="campaign-name">Quarterly review' in page
    assert campaign.due_at.strftime("%Y-%m-%d") in page and "is-overdue" not in page
    assert '<progress id="review-progress" max="3" value="1"' in page and "1 of 3 decided" in page
    with tenant_scope(acme):
        past = timezone.now() - timedelta(hours=1)
        ReviewCampaign.objects.filter(pk=campaign.pk).update(due_at=past, stage_due_at=past)
    late = reviewer_client.get("/reviews/mine/").content.decode()
    assert "is-overdue" in late and "Overdue" in late


def test_filters_narrow_the_list_by_recommendation_flag_kind_decision_and_person(
    acme, campaign, acme_reviewer, reviewer_client
):
    a, b, c = _mine(acme, acme_reviewer)
    # a: common and recently used, kept; b: a separation-of-duties conflict; c: as opened (unused and rare)
    _set(acme, a, recommendation="keep", flagged=False, unused=False, evidence={**a.evidence, "rare": False})
    _set(acme, b, evidence={**b.evidence, "sod": ["Pay and approve"]})
    reviewer_client.post(f"/reviews/items/{a.pk}/decide/", {"decision": "keep"})
    items = [a, b, c]

    def shown(query):
        return _shown(reviewer_client.get(f"/reviews/mine/?{query}").content.decode(), items)

    assert shown("") == {a.pk, b.pk, c.pk}
    assert shown("recommendation=keep") == {a.pk}
    assert shown("recommendation=revoke") == {b.pk, c.pk}
    assert shown("flag=flagged") == {b.pk, c.pk}
    assert shown("flag=unused") == {b.pk, c.pk}
    assert shown("flag=unlike_peers") == {b.pk, c.pk}
    assert shown("flag=sod") == {b.pk}
    assert shown("kind=grant") == {a.pk, b.pk, c.pk}
    assert shown("kind=role") == set()
    assert shown("status=decided") == {a.pk}
    assert shown("status=undecided") == {b.pk, c.pk}
    assert shown(f"q={c.user.email.upper()}") == {c.pk}
    assert shown("flag=sod&status=decided") == set()
    assert shown("flag=nonsense") == {a.pk, b.pk, c.pk}  # an invalid filter narrows nothing, never an error


def test_unlike_peers_reads_the_percentage_of_items_opened_before_the_flag_was_stored(
    acme, campaign, acme_reviewer, reviewer_client
):
    a, b, c = _mine(acme, acme_reviewer)
    legacy = {k: v for k, v in a.evidence.items() if k != "rare"}
    _set(acme, a, evidence={**legacy, "peer_percent": 12})
    _set(acme, b, evidence={**legacy, "peer_percent": 64})
    _set(acme, c, evidence={**legacy, "peer_percent": None})
    page = reviewer_client.get("/reviews/mine/?flag=unlike_peers").content.decode()
    assert _shown(page, [a, b, c]) == {a.pk}


def test_the_evidence_is_laid_out_for_a_quick_decision(acme, campaign, acme_reviewer, reviewer_client):
    item = _mine(acme, acme_reviewer)[0]
    _set(acme, item, evidence={**item.evidence, "sod": ["Pay and approve"]})
    page = reviewer_client.get("/reviews/mine/").content.decode()
    row = page[page.index(f'id="item-{item.pk}"') :]
    row = row[: row.index("</tr>")]
    assert 'data-testid="last-use">never' in row
    assert "unused for 200 days" in row
    assert "0% of peers with the same role hold it" in row and "unlike peers" in row
    assert 'data-testid="flag-sod"' in row and "Pay and approve" in row
    assert "Why it exists:" in row and "Project work" in row


def test_bulk_on_selected_rows_lists_exactly_those_then_decides_only_them(
    acme, campaign, acme_reviewer, reviewer_client
):
    a, b, c = _mine(acme, acme_reviewer)
    form = {"campaign": campaign.pk, "bulk_action": "keep", "scope": "selected", "item": [a.pk, c.pk]}
    confirm = reviewer_client.post("/reviews/mine/bulk/", {**form, "justification": "Checked with the team"})
    body = confirm.content.decode()
    assert confirm.status_code == 200 and "This decides 2 items." in body
    assert f'data-testid="bulk-row-{a.pk}"' in body and f'data-testid="bulk-row-{c.pk}"' in body
    assert f'data-testid="bulk-row-{b.pk}"' not in body
    assert _mine(acme, acme_reviewer, decision="keep") == []  # the confirmation changes nothing
    done = reviewer_client.post(
        "/reviews/mine/bulk/", {**form, "justification": "Checked with the team", "confirm": "1", "expected": "2"}
    )
    assert done.status_code == 302 and done["Location"] == f"/reviews/mine/?campaign={campaign.pk}"
    assert [i.pk for i in _mine(acme, acme_reviewer, decision="keep")] == [a.pk, c.pk]


def test_select_all_matching_the_filter_decides_every_page_not_only_the_visible_one(
    acme, campaign, acme_reviewer, reviewer_client
):
    _grow(acme, campaign, acme_reviewer, 60)  # 63 items: two pages of 50
    page = reviewer_client.get(f"/reviews/mine/?campaign={campaign.pk}&status=undecided").content.decode()
    assert "Select all 63 items matching the filter" in page and page.count('name="item"') == 50
    form = {"campaign": campaign.pk, "bulk_action": "revoke", "scope": "all", "status": "undecided"}
    confirm = reviewer_client.post("/reviews/mine/bulk/", form).content.decode()
    assert "This decides 63 items." in confirm
    assert "required for this decision" in confirm  # the policy asks a justification for revocations
    refused = reviewer_client.post("/reviews/mine/bulk/", {**form, "confirm": "1", "expected": "63"})
    assert refused.status_code == 302 and _mine(acme, acme_reviewer, decision="revoke") == []
    reviewer_client.post("/reviews/mine/bulk/", {**form, "confirm": "1", "expected": "63", "justification": "Gone"})
    assert len(_mine(acme, acme_reviewer, decision="revoke")) == 63


def test_accept_recommendations_says_what_it_skips(acme, campaign, acme_reviewer, reviewer_client):
    a, b, c = _mine(acme, acme_reviewer)
    _set(acme, a, recommendation="none")
    reviewer_client.post(f"/reviews/items/{b.pk}/decide/", {"decision": "keep", "justification": "Needed"})
    form = {"campaign": campaign.pk, "bulk_action": "accept", "scope": "all"}
    body = reviewer_client.post("/reviews/mine/bulk/", form).content.decode()
    assert "This decides 1 item." in body and "Revoke: 1 item" in body
    assert "1 item: undecided items without a recommendation" in body
    assert "1 item: items you already decided" in body
    assert f'data-testid="bulk-row-{c.pk}"' in body and f'data-testid="bulk-row-{a.pk}"' not in body
    reviewer_client.post("/reviews/mine/bulk/", {**form, "confirm": "1", "expected": "1"})
    assert [i.decision for i in _mine(acme, acme_reviewer)] == ["pending", "keep", "revoke"]


def test_a_bulk_decision_never_decides_the_reviewers_own_access(acme, campaign, acme_reviewer, reviewer_client):
    a, b, c = _mine(acme, acme_reviewer)
    _set(acme, a, user_id=acme_reviewer.pk)  # the reviewer's own access (as after a change of hands)
    form = {"campaign": campaign.pk, "bulk_action": "keep", "scope": "all", "justification": "ok"}
    body = reviewer_client.post("/reviews/mine/bulk/", form).content.decode()
    assert "This decides 2 items." in body and "your own access" in body
    reviewer_client.post("/reviews/mine/bulk/", {**form, "confirm": "1", "expected": "2"})
    assert [i.decision for i in _mine(acme, acme_reviewer)] == ["pending", "keep", "keep"]


def test_bulk_refuses_items_that_are_not_the_reviewers_own_of_this_campaign(
    acme, acme_admin, campaign, acme_reviewer, reviewer_client, globex
):
    mine = _mine(acme, acme_reviewer)
    others = [i for i in _mine(acme, acme_admin) if i.campaign_id == campaign.pk]  # the fallback's
    second = _open(acme, acme_admin, acme_reviewer, people=1, name="Second review")
    elsewhere = _mine(acme, acme_reviewer, campaign=second)
    foreign_item, _email = foreign_review(globex, "item")
    with tenant_scope(globex):
        foreign_campaign = ReviewItem.objects.get(pk=foreign_item).campaign_id
    assert others and elsewhere
    base = {"campaign": campaign.pk, "bulk_action": "keep", "scope": "selected", "justification": "ok"}
    for intruder in [others[0].pk, elsewhere[0].pk, foreign_item, "x"]:
        for extra in ({}, {"confirm": "1", "expected": "2"}):
            response = reviewer_client.post("/reviews/mine/bulk/", {**base, **extra, "item": [mine[0].pk, intruder]})
            assert response.status_code == 404, intruder
    for campaign_id in [foreign_campaign, 0, "nope"]:
        response = reviewer_client.post("/reviews/mine/bulk/", {**base, "campaign": campaign_id, "scope": "all"})
        assert response.status_code == 404
    assert _mine(acme, acme_reviewer, decision="keep") == []
    with tenant_scope(globex):
        assert ReviewItem.objects.get(pk=foreign_item).decision == "pending"


def test_a_bulk_without_a_selection_or_an_action_changes_nothing(acme, campaign, acme_reviewer, reviewer_client):
    base = {"campaign": campaign.pk, "justification": "ok"}
    nothing = reviewer_client.post("/reviews/mine/bulk/", {**base, "bulk_action": "keep", "scope": "selected"})
    assert nothing.status_code == 302
    reduce = reviewer_client.post("/reviews/mine/bulk/", {**base, "bulk_action": "reduce", "scope": "all"})
    assert reduce.status_code == 302
    assert _mine(acme, acme_reviewer, decision="keep") == [] and _mine(acme, acme_reviewer, decision="reduce") == []


def test_a_single_decision_without_script_returns_to_the_filtered_list_and_never_elsewhere(
    acme, campaign, acme_reviewer, reviewer_client
):
    item = _mine(acme, acme_reviewer)[0]
    back = f"/reviews/mine/?campaign={campaign.pk}&flag=unused"
    url = f"/reviews/items/{item.pk}/decide/"
    answer = reviewer_client.post(url, {"decision": "keep", "justification": "ok", "next": back})
    assert answer.status_code == 302 and answer["Location"] == back
    away = reviewer_client.post(url, {"decision": "keep", "justification": "ok", "next": "https://evil.example/"})
    assert away["Location"] == "/reviews/mine/"


def test_the_decided_row_carries_the_new_progress_for_the_header(acme, campaign, acme_reviewer, reviewer_client):
    item = _mine(acme, acme_reviewer)[0]
    row = reviewer_client.post(
        f"/reviews/items/{item.pk}/decide/",
        {"decision": "keep", "justification": "ok"},
        headers={"X-Requested-With": "fetch"},
    ).content.decode()
    assert 'data-decided="1" data-total="3" data-progress-text="1 of 3 decided"' in row


def test_the_filtered_workspace_costs_a_constant_number_of_queries(acme, campaign, acme_reviewer, reviewer_client):
    url = f"/reviews/mine/?campaign={campaign.pk}&flag=flagged&kind=grant&status=undecided&recommendation=revoke&q=%40"
    assert_constant_queries(reviewer_client, url, lambda: _grow(acme, campaign, acme_reviewer, 30))


def test_the_bulk_confirmation_costs_a_constant_number_of_queries(acme, campaign, acme_reviewer, reviewer_client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    form = {"campaign": campaign.pk, "bulk_action": "accept", "scope": "all"}

    def count():
        reviewer_client.post("/reviews/mine/bulk/", form)
        with CaptureQueriesContext(connection) as captured:
            assert reviewer_client.post("/reviews/mine/bulk/", form).status_code == 200
        return len(captured.captured_queries)

    before = count()
    _grow(acme, campaign, acme_reviewer, 30)
    assert count() == before


def test_another_reviewer_of_the_tenant_sees_none_of_these_items(acme, campaign, acme_reviewer):
    stranger = make_reviewer(acme, email="stranger@acme.example")
    page = login(Client(), stranger).get("/reviews/mine/").content.decode()
    assert _shown(page, _mine(acme, acme_reviewer)) == set() and "Nothing to review." in page


@pytest.mark.parametrize("value", ["²", "١", "9" * 40])
def test_a_campaign_or_item_that_is_not_an_ascii_id_never_fails(acme, campaign, acme_reviewer, reviewer_client, value):
    page = reviewer_client.get("/reviews/mine/", {"campaign": value})
    assert page.status_code == 200
    bulk = reviewer_client.post(
        "/reviews/mine/bulk/", {"campaign": value, "scope": "selected", "item": [value], "decision": "keep"}
    )
    assert bulk.status_code in (302, 400, 404)
