"""The scheduler with a frozen clock: opening exactly once per period, reminders, closing and applying."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.core import mail

from accounts.scoping import tenant_scope
from permissions import engine
from permissions.vocabulary import Action
from portal.jobs import run_due_jobs
from reviews.models import ReviewCampaign, ReviewItem
from reviews.services import decisions
from tests.factories import UserFactory
from tests.reviews.helpers import grant_on, make_policy

pytestmark = pytest.mark.django_db(transaction=True)

JAN_1 = datetime(2026, 1, 1, tzinfo=UTC)


def at(*args):
    return time_machine.travel(datetime(*args, tzinfo=UTC), tick=False)


def test_quarterly_policy_opens_its_campaign_exactly_once_at_the_due_time(acme, acme_admin, acme_reviewer):
    with at(2025, 12, 1):
        grant_on(acme, UserFactory(tenant=acme))
        make_policy(acme, fallback=acme_reviewer)
    with at(2025, 12, 31, 23, 59):
        run_due_jobs()
        with tenant_scope(acme):
            assert not ReviewCampaign.objects.filter(state="open").exists()
    with at(2026, 1, 1, 0, 0, 30):
        for _ in range(5):
            run_due_jobs()
        with tenant_scope(acme):
            opened = ReviewCampaign.objects.filter(state="open")
            assert [c.period_start.isoformat() for c in opened] == ["2026-01-01"]
            campaign = opened.get()
            items = campaign.items.count()
            assert items == campaign.item_count > 0
            # the next quarter is waiting as scheduled, once
            assert (
                ReviewCampaign.objects.filter(state="scheduled").values_list("period_start", flat=True).get().month == 4
            )
    with at(2026, 2, 20):  # later runs in the same quarter change nothing
        run_due_jobs()
        run_due_jobs()
        with tenant_scope(acme):
            assert ReviewCampaign.objects.filter(period_start=JAN_1.date()).count() == 1
            assert ReviewItem.objects.filter(campaign=campaign).count() == items
    with at(2026, 4, 1, 0, 1):
        run_due_jobs()
        with tenant_scope(acme):
            assert ReviewCampaign.objects.filter(state="open").get().period_start.month == 4


def test_opening_makes_an_audit_checkpoint_and_mails_the_reviewers(acme, acme_admin, acme_reviewer):
    from audit.models import Checkpoint

    with at(2025, 12, 1):
        grant_on(acme, UserFactory(tenant=acme))
        make_policy(acme, fallback=acme_reviewer)
    mail.outbox.clear()
    with at(2026, 1, 1, 1):
        run_due_jobs()
        with tenant_scope(acme):
            campaign = ReviewCampaign.objects.get(state="open")
            assert campaign.opening_checkpoint is not None
            assert Checkpoint.objects.filter(index=campaign.opening_checkpoint).exists()
    assert any("Access review opened" in m.subject for m in mail.outbox)


def test_reminders_go_out_at_the_middle_and_two_days_before_the_end_once_each(acme, acme_admin, acme_reviewer):
    with at(2025, 12, 1):
        grant_on(acme, UserFactory(tenant=acme))
        make_policy(acme, fallback=acme_reviewer)  # 14 days: middle on 8 Jan, final on 13 Jan
    with at(2026, 1, 1, 1):
        run_due_jobs()
    mail.outbox.clear()

    def reminders():
        return [m for m in mail.outbox if m.subject.startswith("Reminder")]

    with at(2026, 1, 7, 23):
        run_due_jobs()
    assert reminders() == []
    with at(2026, 1, 8, 0, 5):
        run_due_jobs()
        run_due_jobs()
    # one reminder to each reviewer with undecided items (the admin's own role went to the fallback)
    assert sorted(m.to[0] for m in reminders()) == sorted([acme_admin.email, acme_reviewer.email])
    with at(2026, 1, 12, 23):
        run_due_jobs()
    assert len(reminders()) == 2
    with at(2026, 1, 13, 0, 5):
        run_due_jobs()
        run_due_jobs()
    assert len(reminders()) == 4


def test_closing_applies_revokes_and_the_user_loses_access_on_the_next_request(acme, acme_admin, acme_reviewer, client):
    """AZ-5 through a review: the reviewed user's next request is refused."""
    from tests.conftest import login
    from tests.reviews.helpers import make_reviewer

    with at(2025, 9, 1):
        subject = make_reviewer(acme, email="second-reviewer@acme.example")
        make_policy(acme, fallback=acme_reviewer, include_roles=False)
    with at(2026, 1, 1, 1):
        run_due_jobs()
        with tenant_scope(acme):
            item = ReviewItem.objects.get(user=subject)
            decisions.decide(item, actor=acme_admin, decision="revoke", justification="Left the review team")
    with at(2026, 1, 14, 23, 50):
        login(client, subject)
        assert client.get("/reviews/mine/").status_code == 200
        with tenant_scope(acme):
            assert engine.can(subject, Action.REVIEW, "reviews")
    with at(2026, 1, 15, 0, 1):
        run_due_jobs()
        with tenant_scope(acme):
            item.refresh_from_db()
            assert item.apply_result == "applied" and item.applied_at is not None
            assert ReviewCampaign.objects.get(pk=item.campaign_id).state == "applied"
            assert not engine.can(subject, Action.REVIEW, "reviews")
        assert client.get("/reviews/mine/").status_code == 403
