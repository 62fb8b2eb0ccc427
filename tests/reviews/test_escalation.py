"""Escalation (inactive or overdue reviewers → the fallback) and delegation for a period, all audited and
idempotent; delegations are a reviewer's own (another's is 404)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import User
from accounts.scoping import tenant_scope
from audit.models import AuditEvent
from permissions.models import Module
from reviews.models import ReviewCampaign, ReviewDelegation, ReviewItem
from reviews.services import ReviewRefused, campaigns, delegations
from reviews.services.escalation import escalate
from tests.conftest import login
from tests.factories import UserFactory
from tests.reviews.helpers import grant_on, make_policy, make_reviewer


@pytest.fixture
def team(acme, acme_admin, acme_reviewer):
    subjects = [UserFactory(tenant=acme) for _ in range(3)]
    for subject in subjects:
        grant_on(acme, subject)
    return {"subjects": subjects, "second": make_reviewer(acme, "second@acme.example")}


def _open(acme, reviewers, fallback, **values):
    """A policy of the reports grants only (not the reviewers' own grants of the reviews module)."""
    with tenant_scope(acme):
        reports = Module.objects.get(key="reports").pk
    make_policy(
        acme,
        fallback=fallback,
        include_roles=False,
        start_date=timezone.now().date(),
        reviewer_kind="chosen",
        reviewers=[r.pk for r in reviewers],
        scope_mode="chosen",
        scope_modules=[reports],
        **values,
    )
    with tenant_scope(acme):
        campaigns.open_due_campaigns(acme)
        return ReviewCampaign.objects.get(state="open")


def test_an_inactive_reviewers_items_go_to_the_fallback_once(
    acme, acme_admin, acme_reviewer, team, mailoutbox, django_capture_on_commit_callbacks
):
    campaign = _open(acme, [team["second"]], acme_reviewer)
    with tenant_scope(acme):
        assert set(ReviewItem.objects.filter(campaign=campaign).values_list("reviewer_id", flat=True)) == {
            team["second"].pk
        }
        User.objects.filter(pk=team["second"].pk).update(is_active=False)
        with django_capture_on_commit_callbacks(execute=True):
            assert escalate(acme) == 3
        assert escalate(acme) == 0
        items = ReviewItem.objects.filter(campaign=campaign)
        assert set(items.values_list("reviewer_id", "routed", "delegated_from_id")) == {
            (acme_reviewer.pk, "escalated", team["second"].pk)
        }
        [event] = AuditEvent.objects.filter(event_type="review.escalated")
        assert event.after["why"] == "inactive" and event.after["items"] == 3
    assert any("handed to you" in m.subject for m in mailoutbox)


def test_overdue_items_escalate_after_the_set_days_and_only_once(acme, acme_admin, acme_reviewer, team):
    campaign = _open(acme, [team["second"]], acme_reviewer, escalate_after_days=5)
    with tenant_scope(acme):
        start = campaign.current_stage_opened
        assert escalate(acme, now=start + timedelta(days=4)) == 0
        first = ReviewItem.objects.filter(campaign=campaign).first()
        from reviews.services import decisions

        decisions.decide(first, actor=team["second"], decision="keep", justification="fine")
        assert escalate(acme, now=start + timedelta(days=5, minutes=1)) == 2  # the decided one stays
        assert escalate(acme, now=start + timedelta(days=6)) == 0
        assert ReviewItem.objects.get(pk=first.pk).reviewer_id == team["second"].pk


def test_the_fallback_never_gets_their_own_access(acme, acme_admin, acme_reviewer, team):
    grant_on(acme, acme_reviewer)
    campaign = _open(acme, [team["second"]], acme_reviewer)
    with tenant_scope(acme):
        own = ReviewItem.objects.get(campaign=campaign, user=acme_reviewer)
        User.objects.filter(pk=team["second"].pk).update(is_active=False)
        escalate(acme)
        own.refresh_from_db()
        assert own.reviewer_id == acme_admin.pk  # the next in line: an administrator


def test_a_delegation_hands_items_over_for_its_period(acme, acme_admin, acme_reviewer, team):
    now = timezone.now()
    with tenant_scope(acme):
        made = delegations.delegate(
            actor=team["second"], to=acme_reviewer, starts_at=now, ends_at=now + timedelta(days=7), reason="Holiday"
        )
    campaign = _open(acme, [team["second"]], acme_admin)
    with tenant_scope(acme):
        # routed at opening to the delegate, marked as delegated from the reviewer
        assert set(ReviewItem.objects.filter(campaign=campaign).values_list("reviewer_id", "routed")) == {
            (acme_reviewer.pk, "delegated")
        }
        assert AuditEvent.objects.filter(event_type="review.delegation_created", target_id=str(made.pk)).exists()
        delegations.end_delegation(made, actor=team["second"])
        assert not delegations.end_delegation(made, actor=team["second"])
        assert AuditEvent.objects.filter(event_type="review.delegation_ended").count() == 1


def test_the_escalation_job_moves_open_items_to_a_new_delegate_one_hop(acme, acme_admin, acme_reviewer, team):
    campaign = _open(acme, [team["second"]], acme_admin)
    now = timezone.now()
    with tenant_scope(acme):
        delegations.delegate(
            actor=team["second"], to=acme_reviewer, starts_at=now, ends_at=now + timedelta(days=3), reason="Leave"
        )
        assert escalate(acme) == 3
        assert escalate(acme) == 0
        assert set(ReviewItem.objects.filter(campaign=campaign).values_list("reviewer_id", flat=True)) == {
            acme_reviewer.pk
        }


def test_delegations_are_checked(acme, acme_admin, acme_reviewer, team):
    now = timezone.now()
    plain = UserFactory(tenant=acme)
    with tenant_scope(acme):
        cases = [
            {"to": team["second"], "starts_at": now, "ends_at": now + timedelta(days=3), "reason": ""},
            {"to": plain, "starts_at": now, "ends_at": now + timedelta(days=3), "reason": "x"},
            {"to": acme_reviewer, "starts_at": now, "ends_at": now + timedelta(days=3), "reason": "x"},  # self
            {"to": team["second"], "starts_at": now, "ends_at": now - timedelta(days=1), "reason": "x"},
            {"to": team["second"], "starts_at": now, "ends_at": now + timedelta(days=91), "reason": "x"},
        ]
        for case in cases:
            with pytest.raises(ReviewRefused):
                delegations.delegate(actor=acme_reviewer, **case)
        delegations.delegate(
            actor=acme_reviewer, to=team["second"], starts_at=now, ends_at=now + timedelta(days=3), reason="x"
        )
        with pytest.raises(ReviewRefused):  # overlapping
            delegations.delegate(
                actor=acme_reviewer, to=acme_admin, starts_at=now, ends_at=now + timedelta(days=1), reason="x"
            )
        with pytest.raises(ReviewRefused):
            delegations.delegate(
                actor=plain, to=acme_reviewer, starts_at=now, ends_at=now + timedelta(days=1), reason="x"
            )
        assert ReviewDelegation.objects.count() == 1


def test_delegation_screens_are_the_reviewers_own(acme, acme_admin, acme_reviewer, team, client):
    login(client, acme_reviewer)
    today = timezone.now().date()
    response = client.post(
        "/reviews/delegations/",
        {"to": "second@acme.example", "starts": today, "ends": today + timedelta(days=5), "reason": "Holiday"},
    )
    assert response.status_code == 302
    with tenant_scope(acme):
        made = ReviewDelegation.objects.get()
    assert made.delegate_id == team["second"].pk
    assert "second@acme.example" in client.get("/reviews/delegations/").content.decode()
    assert "second@acme.example" in client.get("/reviews/mine/").content.decode()
    client.logout()
    login(client, team["second"])
    assert client.post(f"/reviews/delegations/{made.pk}/end/").status_code == 404
    assert "Holiday" not in client.get("/reviews/delegations/").content.decode()
    client.logout()
    login(client, acme_reviewer)
    assert client.post(f"/reviews/delegations/{made.pk}/end/").status_code == 200  # the confirmation
    made.refresh_from_db()
    assert made.ended_at is None
    assert client.post(f"/reviews/delegations/{made.pk}/end/", {"confirmed": "yes"}).status_code == 302
    made.refresh_from_db()
    assert made.ended_at is not None
    plain = UserFactory(tenant=acme)
    client.logout()
    login(client, plain)
    assert client.get("/reviews/delegations/").status_code in (403, 404)
