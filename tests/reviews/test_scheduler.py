"""The scheduler with a frozen clock: opening exactly once per period, reminders, closing and applying."""

import re
from datetime import UTC, date, datetime

import pytest
import time_machine
from django.core import mail
from django.test import Client

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


def _campaigns(tenant):
    """(period start, state) of every campaign of the tenant, oldest period first."""
    with tenant_scope(tenant):
        return [(c.period_start.isoformat(), c.state) for c in ReviewCampaign.objects.order_by("period_start", "id")]


def _edit_policy(tenant, policy, **changes):
    from reviews.services.policies import FIELDS, save_policy

    values = {name: getattr(policy, name) for name in FIELDS}
    values.update(changes)
    with tenant_scope(tenant):
        return save_policy(actor=None, tenant=tenant, values=values, policy=policy)


@pytest.mark.parametrize(
    ("cadence", "runs", "expected"),
    [
        (  # the scheduler runs at each period start, at each close, and the day before each month end
            "monthly",
            ["01-31", "02-14", "02-28", "03-14", "03-28", "03-30", "03-31", "04-14", "04-29", "04-30"],
            "2026-01-31 applied, 2026-02-28 applied, 2026-03-31 applied, 2026-04-30 open, 2026-05-31 scheduled",
        ),
        (
            "quarterly",
            ["01-31", "02-14", "04-30", "05-14", "07-30", "07-31", "08-14", "10-30", "10-31"],
            "2026-01-31 applied, 2026-04-30 applied, 2026-07-31 applied, 2026-10-31 open, 2027-01-31 scheduled",
        ),
    ],
)
def test_a_policy_starting_on_the_31st_keeps_to_the_end_of_each_month(
    cadence, runs, expected, acme, acme_admin, acme_reviewer
):
    """31 Jan, 28 Feb, 31 Mar, 30 Apr …: counted from the start date, never from the previous (clamped) period."""
    with at(2026, 1, 20):
        grant_on(acme, UserFactory(tenant=acme))
        make_policy(acme, fallback=acme_reviewer, name=cadence, cadence=cadence, start_date=date(2026, 1, 31))
    for day in runs:
        month, day_of_month = map(int, day.split("-"))
        with at(2026, month, day_of_month, 0, 5):
            run_due_jobs()
    assert _campaigns(acme) == [tuple(each.split(" ")) for each in expected.split(", ")]


def test_a_period_missed_while_the_scheduler_was_down_is_cancelled_not_left_scheduled(acme, acme_admin, acme_reviewer):
    from audit.models import AuditEvent

    with at(2025, 12, 20):
        grant_on(acme, UserFactory(tenant=acme))
        make_policy(acme, fallback=acme_reviewer, name="Monthly", cadence="monthly")
    with at(2026, 1, 1, 0, 5):
        run_due_jobs()
    assert _campaigns(acme) == [("2026-01-01", "open"), ("2026-02-01", "scheduled")]
    with at(2026, 2, 20):  # down from 2 Jan to 19 Feb: February's window (1–15 Feb) passed unopened
        run_due_jobs()
        run_due_jobs()
    assert _campaigns(acme) == [("2026-01-01", "applied"), ("2026-02-01", "cancelled"), ("2026-03-01", "scheduled")]
    with tenant_scope(acme):
        february = ReviewCampaign.objects.get(period_start=date(2026, 2, 1))
        assert february.cancelled_at is not None and february.opened_at is None
        event = AuditEvent.objects.get(event_type="review.campaign_cancelled", target_id=str(february.pk))
        assert event.actor_id is None and "window ended" in event.reason
    with at(2026, 3, 1, 0, 5):
        run_due_jobs()
    assert _campaigns(acme)[2:] == [("2026-03-01", "open"), ("2026-04-01", "scheduled")]


def test_a_change_of_cadence_cancels_the_scheduled_campaign_it_leaves_off_the_schedule(acme, acme_admin, acme_reviewer):
    from audit.models import AuditEvent

    with at(2025, 12, 20):
        grant_on(acme, UserFactory(tenant=acme))
        policy = make_policy(acme, fallback=acme_reviewer, name="Monthly", cadence="monthly")
    with at(2026, 1, 1, 0, 5):
        run_due_jobs()
    assert _campaigns(acme) == [("2026-01-01", "open"), ("2026-02-01", "scheduled")]
    with at(2026, 1, 2):
        _edit_policy(acme, policy, cadence="quarterly")
        run_due_jobs()
    assert _campaigns(acme) == [("2026-01-01", "open"), ("2026-02-01", "cancelled"), ("2026-04-01", "scheduled")]
    with tenant_scope(acme):
        february = ReviewCampaign.objects.get(period_start=date(2026, 2, 1))
        event = AuditEvent.objects.get(event_type="review.campaign_cancelled", target_id=str(february.pk))
        assert "schedule changed" in event.reason
    with at(2026, 2, 1, 0, 5):
        run_due_jobs()
    assert _campaigns(acme) == [("2026-01-01", "applied"), ("2026-02-01", "cancelled"), ("2026-04-01", "scheduled")]


def test_closing_makes_an_audit_checkpoint_that_covers_the_close(acme, acme_admin, acme_reviewer):
    from audit.models import AuditEvent, Checkpoint
    from tests.conftest import login

    with at(2025, 12, 1):
        grant_on(acme, UserFactory(tenant=acme))
        make_policy(acme, fallback=acme_reviewer)
    with at(2026, 1, 1, 1):
        run_due_jobs()
        with tenant_scope(acme):
            campaign = ReviewCampaign.objects.get(state="open")
            assert campaign.closing_checkpoint is None
    with at(2026, 1, 15, 0, 1):
        run_due_jobs()
        with tenant_scope(acme):
            campaign.refresh_from_db()
            assert campaign.state == "applied" and campaign.closing_checkpoint is not None
            assert campaign.closing_checkpoint > campaign.opening_checkpoint
            checkpoint = Checkpoint.objects.get(index=campaign.closing_checkpoint)
            closed = AuditEvent.objects.get(event_type="review.campaign_closed", target_id=str(campaign.pk))
            assert checkpoint.tree_size >= AuditEvent.objects.filter(seq__lte=closed.seq).count()
        page = login(Client(), acme_admin).get(f"/reviews/campaigns/{campaign.pk}/").content.decode()
    assert f"#{campaign.closing_checkpoint} at closing" in page


def _behind(page: str) -> dict[str, bool]:
    """Reviewer e-mail → highlighted as behind, from the dashboard's reviewer progress table."""
    table = page.split('data-testid="reviewer-progress"', 1)[1].split("</table>", 1)[0]
    rows = table.split("<tr")[2:]  # after the header row
    return {re.search(r"<td>([^<\s]+)", row).group(1): "badge-overdue" in row for row in rows}


def test_dashboard_highlights_reviewers_behind_in_the_last_two_days(acme, acme_admin, acme_reviewer):
    from tests.conftest import login

    with at(2025, 12, 1):
        for _ in range(2):
            grant_on(acme, UserFactory(tenant=acme))
        # 14 days from 1 Jan: due 15 Jan 00:00, the last two days from 13 Jan 00:00
        make_policy(
            acme, fallback=acme_admin, reviewer_kind="chosen", reviewers=[acme_reviewer.pk], include_roles=False
        )
    with at(2026, 1, 1, 1):
        run_due_jobs()
        with tenant_scope(acme):
            campaign = ReviewCampaign.objects.get(state="open")
            # the reviewer's own reviews grant went to the admin (fallback), who decides it; the reviewer does not
            mine = ReviewItem.objects.filter(campaign=campaign, reviewer=acme_admin)
            assert mine.exists()
            for item in mine:
                decisions.decide(item, actor=acme_admin, decision="keep", justification="still needed")
            assert ReviewItem.objects.filter(campaign=campaign, reviewer=acme_reviewer, decision="pending").count() == 2
    url = f"/reviews/campaigns/{campaign.pk}/"
    with at(2026, 1, 12, 23, 59):
        assert _behind(login(Client(), acme_admin).get(url).content.decode()) == {
            acme_admin.email: False,
            acme_reviewer.email: False,
        }
    with at(2026, 1, 13, 0, 1):
        assert _behind(login(Client(), acme_admin).get(url).content.decode()) == {
            acme_admin.email: False,  # done: never behind
            acme_reviewer.email: True,
        }
    with at(2026, 1, 15, 0, 1):
        run_due_jobs()  # closed: nobody is behind any more
        assert set(_behind(login(Client(), acme_admin).get(url).content.decode()).values()) == {False}
