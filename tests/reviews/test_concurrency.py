"""Two schedulers at once (PostgreSQL row locks): a campaign opens once, an item is applied once; a decision
and a close at once are serialised by the campaign row lock."""

import threading
import time

import pytest
from django.db import connection, connections
from django.utils import timezone

from accounts.scoping import tenant_scope
from audit.models import AuditEvent
from reviews.models import ReviewCampaign, ReviewItem
from reviews.services import ReviewRefused, applying, campaigns, decisions
from reviews.services.errors import NOT_OPEN
from tests.factories import UserFactory
from tests.reviews.helpers import grant_on, make_policy


def _twice_at_once(func):
    """Run ``func`` in two threads released together; return both results."""
    barrier, results = threading.Barrier(2), []

    def worker():
        try:
            barrier.wait()
            results.append(func())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_open_once_and_apply_once(acme, acme_admin, acme_reviewer):
    subjects = [UserFactory(tenant=acme) for _ in range(3)]
    made = [grant_on(acme, s) for s in subjects]
    make_policy(acme, fallback=acme_reviewer, include_roles=False, start_date=timezone.now().date())

    def open_now():
        with tenant_scope(acme):
            return campaigns.open_due_campaigns(acme)

    assert sorted(_twice_at_once(open_now)) == [0, 1]
    with tenant_scope(acme):
        campaign = ReviewCampaign.objects.get(state="open")
        assert ReviewItem.objects.filter(campaign=campaign).count() == campaign.item_count
        for item in ReviewItem.objects.filter(campaign=campaign, grant__in=made):
            decisions.decide(item, actor=acme_admin, decision="revoke", justification="gone")
        campaigns.close_campaign(campaign, actor=None)

    def apply_now():
        with tenant_scope(acme):
            return applying.apply_campaign(ReviewCampaign.objects.get(pk=campaign.pk))

    assert sorted(_twice_at_once(apply_now)) == [0, 3]
    with tenant_scope(acme):
        revoked = AuditEvent.objects.filter(event_type="grant.revoked", target_id__in=[str(g.pk) for g in made])
        assert revoked.count() == 3
        assert AuditEvent.objects.filter(event_type="review.campaign_applied").count() == 1


def _until_another_waits_for_a_lock(timeout: float = 10.0) -> None:
    """The handshake of a paused side: return once another transaction waits for a lock (PostgreSQL's
    pg_locks, read afresh on every call), i.e. the other thread reached the lock this side holds."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
            if cursor.fetchone()[0]:
                return
            time.sleep(0.01)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("first", ["decide", "close"])
def test_a_decision_racing_the_close_commits_before_it_or_is_refused(
    first, monkeypatch, acme, acme_admin, acme_reviewer
):
    """Closing race: every item ends with a final decision and no decision lands after the close.

    ``decide`` first: the decision is under way (its locks taken, state checked) when the close starts.
    ``close`` first: the close has resolved the items, not yet committed, when the decision starts.
    """
    subjects = [UserFactory(tenant=acme) for _ in range(3)]
    made = [grant_on(acme, s) for s in subjects]
    make_policy(acme, fallback=acme_reviewer, include_roles=False, start_date=timezone.now().date())
    with tenant_scope(acme):
        campaigns.open_due_campaigns(acme)
        campaign = ReviewCampaign.objects.get(state="open")
        item = ReviewItem.objects.get(campaign=campaign, grant=made[0])
        assert item.reviewer_id == acme_admin.pk

    # Hooks that hold each side at the point where the other one must arrive (the locks decide the rest).
    deciding, closing = threading.Event(), threading.Event()
    real_may_review, real_resolve = decisions.may_review, campaigns._resolve_unanswered

    def may_review_then_pause(actor):  # inside decide: its locks are held, the campaign was seen open
        deciding.set()
        _until_another_waits_for_a_lock()
        return real_may_review(actor)

    def resolve_then_pause(campaign, policy):  # inside close: items resolved, not committed yet
        guarded = real_resolve(campaign, policy)
        closing.set()
        _until_another_waits_for_a_lock()
        return guarded

    monkeypatch.setattr(decisions, "may_review", may_review_then_pause)
    monkeypatch.setattr(campaigns, "_resolve_unanswered", resolve_then_pause)
    barrier, outcome = threading.Barrier(2), {}

    def run(name, func, wait_for):
        try:
            barrier.wait()
            if first != name:
                assert wait_for.wait(timeout=10)
            with tenant_scope(acme):
                outcome[name] = func()
        except Exception as exc:  # noqa: BLE001 - the outcome is asserted below
            outcome[name] = exc
        finally:
            connections.close_all()

    def decide():
        fresh = ReviewItem.objects.get(pk=item.pk)
        return decisions.decide(fresh, actor=acme_admin, decision="revoke", justification="left the team")

    def close():
        return campaigns.close_campaign(ReviewCampaign.objects.get(pk=campaign.pk), actor=None)

    threads = [
        threading.Thread(target=run, args=("decide", decide, closing)),
        threading.Thread(target=run, args=("close", close, deciding)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert outcome["close"] is True
    with tenant_scope(acme):
        campaign.refresh_from_db()
        assert campaign.state == "closed"
        items = list(ReviewItem.objects.filter(campaign=campaign))
        assert [i.pk for i in items if not i.final_decision] == []
        for each in items:  # what the close froze is what the reviewer decided: nothing changed after it
            if each.decision != "pending":
                assert (each.final_decision, each.final_source) == (each.decision, "reviewer")
        item.refresh_from_db()
        closed_at = AuditEvent.objects.get(event_type="review.campaign_closed", target_id=str(campaign.pk)).seq
        decided = AuditEvent.objects.filter(event_type="review.decided", target_id=str(item.pk))
        assert all(event.seq < closed_at for event in decided)
        if first == "decide":
            assert isinstance(outcome["decide"], ReviewItem)
            assert (item.decision, item.final_decision, item.final_source) == ("revoke", "revoke", "reviewer")
            assert decided.count() == 1
        else:
            assert isinstance(outcome["decide"], ReviewRefused) and outcome["decide"].code == NOT_OPEN
            assert (item.decision, item.final_decision, item.final_source) == ("pending", "keep", "unanswered")
            assert not decided.exists()
        assert applying.apply_campaign(campaign) == (1 if first == "decide" else 0)
        campaign.refresh_from_db()
        assert campaign.state == "applied"
