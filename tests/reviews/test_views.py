"""Review screens: declared permissions, reviewers see only their items, bulk confirmation, export, report."""

import pytest
from django.test import Client
from django.utils import timezone

from accounts.scoping import tenant_scope
from reviews.models import ReviewCampaign, ReviewItem
from reviews.services import campaigns
from tests.conftest import login
from tests.factories import UserFactory
from tests.querycount import assert_constant_queries
from tests.reviews.helpers import age_user, grant_on, make_policy, make_reviewer

pytestmark = pytest.mark.django_db


@pytest.fixture
def campaign(acme, acme_admin, acme_reviewer):
    """An open campaign in which the reviewer reviews grants of basic users (chosen reviewer)."""
    for person in [UserFactory(tenant=acme) for _ in range(3)]:
        age_user(person, 300)
        grant_on(acme, person, resource_title=f"Report {person.pk}", created_days_ago=200)
    make_policy(
        acme,
        fallback=acme_admin,
        reviewer_kind="chosen",
        reviewers=[acme_reviewer.pk],
        include_roles=False,
        start_date=timezone.now().date(),
    )
    with tenant_scope(acme):
        campaigns.open_due_campaigns(acme)
        return ReviewCampaign.objects.get(state="open")


@pytest.fixture
def reviewer_client(acme_reviewer):
    return login(Client(), acme_reviewer)


def _items(acme, **lookup):
    with tenant_scope(acme):
        return list(ReviewItem.objects.filter(**lookup).order_by("id"))


def test_reviewer_sees_only_items_assigned_to_them(acme, campaign, acme_reviewer, reviewer_client):
    mine = _items(acme, reviewer=acme_reviewer)
    others = _items(acme, campaign=campaign)
    foreign = [i for i in others if i.reviewer_id != acme_reviewer.pk]
    assert mine and foreign  # the reviewer's own reviews grant went to the fallback
    page = reviewer_client.get("/reviews/mine/").content.decode()
    for item in mine:
        assert f'id="item-{item.pk}"' in page
    for item in foreign:
        assert f'id="item-{item.pk}"' not in page
        response = reviewer_client.post(f"/reviews/items/{item.pk}/decide/", {"decision": "keep"})
        assert response.status_code == 404


def test_a_user_without_review_rights_is_refused_every_review_page(acme, campaign):
    """AZ-3: the declared permission is enforced."""
    basic = login(Client(), UserFactory(tenant=acme, email="nobody@acme.example"))
    item = _items(acme, campaign=campaign)[0]
    for url in ["/reviews/", "/reviews/mine/", f"/reviews/campaigns/{campaign.pk}/", "/reviews/policies/"]:
        assert basic.get(url).status_code == 403, url
    assert basic.post(f"/reviews/items/{item.pk}/decide/", {"decision": "keep"}).status_code == 403
    assert basic.post(f"/reviews/campaigns/{campaign.pk}/close/").status_code == 403


def test_reviewer_cannot_close_or_edit_policies(acme, campaign, reviewer_client):
    assert reviewer_client.post(f"/reviews/campaigns/{campaign.pk}/close/").status_code == 403
    assert reviewer_client.get("/reviews/policies/new/").status_code == 403
    assert reviewer_client.get(f"/reviews/campaigns/{campaign.pk}/").status_code == 200  # view is enough


def test_decide_without_reload_answers_the_row(acme, campaign, acme_reviewer, reviewer_client):
    item = _items(acme, reviewer=acme_reviewer)[0]
    url = f"/reviews/items/{item.pk}/decide/"
    refused = reviewer_client.post(url, {"decision": "revoke"}, headers={"X-Requested-With": "fetch"})
    assert refused.status_code == 422 and "needs a justification" in refused.content.decode()
    answer = reviewer_client.post(
        url, {"decision": "revoke", "justification": "left"}, headers={"X-Requested-With": "fetch"}
    )
    body = answer.content.decode()
    assert answer.status_code == 200 and body.lstrip().startswith("<tr") and "decision-revoke" in body
    assert reviewer_client.get(url).status_code == 405  # GET never changes state


def test_bulk_accept_shows_the_count_then_decides(acme, campaign, acme_reviewer, reviewer_client):
    form = {"campaign": campaign.pk, "scope": "all", "bulk_action": "accept", "flag": "flagged"}
    confirm = reviewer_client.post("/reviews/mine/bulk/", form)
    assert "This decides 3 items." in confirm.content.decode()
    assert _items(acme, reviewer=acme_reviewer, decision="revoke") == []
    done = reviewer_client.post("/reviews/mine/bulk/", {**form, "confirm": "1", "expected": "3"})
    assert done.status_code == 302
    assert len(_items(acme, reviewer=acme_reviewer, decision="revoke")) == 3


def test_admin_creates_a_policy_with_the_editor(acme, acme_admin, admin_client_acme, acme_reviewer):
    response = admin_client_acme.post(
        "/reviews/policies/new/",
        {
            "name": "Half-yearly admins",
            "include_roles": "on",
            "scope_mode": "risky",
            "cadence": "half_yearly",
            "start_date": "2026-07-01",
            "duration_days": "14",
            "reviewer_kind": "administrators",
            "fallback": acme_reviewer.pk,
            "unanswered": "keep",
            "max_revoke_percent": "25",
            "auto_apply": "on",
            "active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert "Half-yearly admins" in admin_client_acme.get("/reviews/policies/").content.decode()


def test_policy_editor_refuses_another_tenants_reviewer(acme, acme_admin, admin_client_acme, acme_reviewer, globex):
    """AZ-2: a reviewer id of another tenant is refused."""
    stranger = make_reviewer(globex)
    response = admin_client_acme.post(
        "/reviews/policies/new/",
        {
            "name": "Sneaky",
            "include_grants": "on",
            "scope_mode": "all",
            "cadence": "once",
            "start_date": "2026-07-01",
            "duration_days": "14",
            "reviewer_kind": "administrators",
            "fallback": stranger.pk,
            "unanswered": "keep",
            "max_revoke_percent": "25",
        },
    )
    assert response.status_code == 200  # the form again, with the error
    with tenant_scope(acme):
        from reviews.models import ReviewPolicy

        assert not ReviewPolicy.objects.filter(name="Sneaky").exists()


def test_close_report_and_export_show_each_decision(acme, campaign, acme_reviewer, reviewer_client, admin_client_acme):
    item = _items(acme, reviewer=acme_reviewer)[0]
    reviewer_client.post(
        f"/reviews/items/{item.pk}/decide/", {"decision": "revoke", "justification": "=cmd|' /C calc'!A0"}
    )
    dashboard = admin_client_acme.get(f"/reviews/campaigns/{campaign.pk}/").content.decode()
    assert "<progress" in dashboard and "<svg" in dashboard
    assert admin_client_acme.post(f"/reviews/campaigns/{campaign.pk}/close/", {"confirm": "1"}).status_code == 302
    report = admin_client_acme.get(f"/reviews/campaigns/{campaign.pk}/report/").content.decode()
    assert acme_reviewer.email in report and "Applied" in report
    export = b"".join(admin_client_acme.get(f"/reviews/campaigns/{campaign.pk}/export.csv").streaming_content).decode()
    assert "'=cmd" in export and ",applied," in export


def test_my_reviews_costs_a_constant_number_of_queries(acme, campaign, acme_reviewer, reviewer_client):
    def grow():
        with tenant_scope(acme):
            source = ReviewItem.objects.filter(reviewer=acme_reviewer).first()
            ReviewItem.objects.bulk_create(
                ReviewItem(
                    tenant=acme,
                    campaign=campaign,
                    access_key=f"grant:fake{n}",
                    kind="grant",
                    user_id=source.user_id,
                    grant_id=source.grant_id,
                    snapshot=source.snapshot,
                    evidence=source.evidence,
                    reasons=source.reasons,
                    reviewer=acme_reviewer,
                )
                for n in range(30)
            )

    assert_constant_queries(reviewer_client, "/reviews/mine/", grow)


def test_reassign_hands_an_item_to_another_reviewer_who_then_sees_it(acme, campaign, acme_reviewer, reviewer_client):
    other = make_reviewer(acme, email="other-reviewer@acme.example")
    item = _items(acme, reviewer=acme_reviewer)[0]
    refused = reviewer_client.post(f"/reviews/items/{item.pk}/reassign/", {"to": other.email, "reason": ""})
    assert refused.status_code == 302 and _items(acme, pk=item.pk)[0].reviewer_id == acme_reviewer.pk
    reviewer_client.post(f"/reviews/items/{item.pk}/reassign/", {"to": other.email, "reason": "knows this customer"})
    assert _items(acme, pk=item.pk)[0].reviewer_id == other.pk
    page = login(Client(), other).get("/reviews/mine/").content.decode()
    assert f'id="item-{item.pk}"' in page


def test_report_figures_show_translated_labels_not_raw_keys(
    acme, campaign, acme_reviewer, reviewer_client, admin_client_acme
):
    item = _items(acme, reviewer=acme_reviewer)[0]
    reviewer_client.post(f"/reviews/items/{item.pk}/decide/", {"decision": "revoke", "justification": "left"})
    admin_client_acme.post(f"/reviews/campaigns/{campaign.pk}/close/", {"confirm": "1"})
    url = f"/reviews/campaigns/{campaign.pk}/report/"

    def figures():
        page = admin_client_acme.get(url).content.decode()
        return page.split('data-testid="report-figures"', 1)[1].split("</dl>", 1)[0]

    shown = figures()
    for label in ["<dt>Not decided</dt>", "<dt>Revoke</dt>", ": Applied</dt>", ": Nothing to change</dt>"]:
        assert label in shown
    for key in ["<dt>pending</dt>", "<dt>revoke</dt>", ": applied</dt>", ": nothing</dt>"]:
        assert key not in shown
    admin_client_acme.post("/accounts/language/", {"language": "zh-hans", "next": url})
    shown = figures()
    assert "<dt>未决定</dt>" in shown and "<dt>撤销</dt>" in shown and "无需更改</dt>" in shown


def test_the_campaign_page_gives_the_due_time_in_the_readers_zone_and_names_it(acme, campaign, reviewer_client):
    """The due time follows the reader's time zone (My account › Preferences) and says which zone it is in."""
    from datetime import UTC, datetime

    from accounts.models import User

    with tenant_scope(acme):
        reader = User.objects.get(pk=reviewer_client.session["_auth_user_id"])
        reader.time_zone = "Asia/Shanghai"
        reader.save(update_fields=["time_zone"])
        campaign.due_at = datetime(2027, 1, 15, 9, 30, tzinfo=UTC)
        campaign.save(update_fields=["due_at"])
    page = reviewer_client.get(f"/reviews/campaigns/{campaign.pk}/").content.decode()
    assert "due 2027-01-15 17:30 CST" in page and " UTC" not in page.split("due 2027")[1][:30]
