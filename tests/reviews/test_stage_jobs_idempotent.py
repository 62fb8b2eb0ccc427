"""The new jobs stay idempotent: two runs at once (PostgreSQL row locks) and a crash mid-run.

- ending a stage: advanced once, one event, the history kept once;
- escalation and delegation: each item moved once, one event per move;
- applying the new kinds: each revoke applied once, whoever runs it and however often.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import User
from accounts.scoping import tenant_scope
from audit.models import AuditEvent
from reviews.models import ReviewCampaign, ReviewItem, StageDecision
from reviews.services import applying, campaigns, decisions, revoking, stages
from reviews.services.escalation import escalate
from reviews.sod import own_access_q
from tests.reviews.helpers import NEW_KINDS, every_kind, make_policy
from tests.reviews.test_concurrency import _twice_at_once


class Crash(BaseException):
    """The process dies here (not an error the code may catch)."""


def _campaign(acme, world, **values):
    later = [{"reviewer_kind": "administrators", "reviewers": [], "fallback": world["reviewer"].pk, "duration_days": 7}]
    values.setdefault("later_stages", later)
    make_policy(acme, fallback=world["reviewer"], start_date=timezone.now().date(), **{**NEW_KINDS, **values})
    with tenant_scope(acme):
        campaigns.open_due_campaigns(acme)
        return ReviewCampaign.objects.get(state="open")


def _revoke_personal(acme, campaign):
    """Revoke every group and organisation membership of the campaign (its assigned reviewers decide)."""
    with tenant_scope(acme):
        items = list(ReviewItem.objects.filter(campaign=campaign, kind__in=["membership", "organisation"]))
        for item in items:
            reviewer = User.objects.get(pk=item.reviewer_id)
            decisions.decide(item, actor=reviewer, decision="revoke", justification="gone")
        return [i.pk for i in items]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_end_a_stage_once_escalate_once_and_apply_once(acme, acme_admin, acme_reviewer):
    world = every_kind(acme, acme_reviewer)
    campaign = _campaign(acme, world)
    revoked = _revoke_personal(acme, campaign)

    def end_now():
        with tenant_scope(acme):
            return campaigns.close_overdue(acme, now=campaign.stage_due_at + timedelta(minutes=1))

    assert sorted(_twice_at_once(end_now)) == [0, 1]
    with tenant_scope(acme):
        assert AuditEvent.objects.filter(event_type="review.stage_advanced").count() == 1
        assert StageDecision.objects.count() == campaign.item_count
        User.objects.filter(pk=acme_admin.pk).update(is_active=False)  # stage 2's administrator leaves

    def escalate_now():
        with tenant_scope(acme):
            return escalate(acme)

    moved = _twice_at_once(escalate_now)
    assert 0 in moved and sum(moved) > 0
    with tenant_scope(acme):
        assert AuditEvent.objects.filter(event_type="review.escalated").count() == 1
        campaigns.close_campaign(ReviewCampaign.objects.get(pk=campaign.pk), actor=None)

    def apply_now():
        with tenant_scope(acme):
            return applying.apply_campaign(ReviewCampaign.objects.get(pk=campaign.pk))

    assert sum(_twice_at_once(apply_now)) == len(revoked)
    with tenant_scope(acme):
        assert AuditEvent.objects.filter(event_type="group.member_removed").count() == 2  # alice, owner@
        assert _left_their_organisation() == 2


def _left_their_organisation() -> int:
    events = AuditEvent.objects.filter(event_type="user.organisation_changed")
    return sum(1 for event in events if event.after == {"organisation": None})


def test_a_crash_mid_apply_leaves_each_revoke_applied_once(acme, acme_admin, acme_reviewer, monkeypatch):
    world = every_kind(acme, acme_reviewer)
    campaign = _campaign(acme, world, later_stages=[])
    revoked = _revoke_personal(acme, campaign)
    real, calls = revoking.APPLY["organisation"], []

    def crash_on_second(item, reason):
        calls.append(item.pk)
        if len(calls) == 2:
            raise Crash
        return real(item, reason)

    monkeypatch.setitem(revoking.APPLY, "organisation", crash_on_second)
    with tenant_scope(acme):
        campaigns.close_campaign(campaign, actor=None)
        campaign.refresh_from_db()
        with pytest.raises(Crash):
            applying.apply_campaign(campaign)
        done = set(ReviewItem.objects.filter(pk__in=revoked, apply_result="applied").values_list("pk", flat=True))
        assert 0 < len(done) < len(revoked)  # the crashed item's transaction rolled back, the others stand
        monkeypatch.setitem(revoking.APPLY, "organisation", real)
        campaign.refresh_from_db()
        assert applying.apply_campaign(campaign) == len(revoked) - len(done)
        assert set(ReviewItem.objects.filter(pk__in=revoked).values_list("apply_result", flat=True)) == {"applied"}
        assert _left_their_organisation() == 2


def test_a_crash_mid_stage_change_changes_nothing_and_the_next_run_does_it_once(
    acme, acme_admin, acme_reviewer, monkeypatch
):
    world = every_kind(acme, acme_reviewer)
    campaign = _campaign(acme, world)
    real = stages._move_on

    def crash(*args):
        real(*args)
        raise Crash

    monkeypatch.setattr(stages, "_move_on", crash)
    after = campaign.stage_due_at + timedelta(minutes=1)
    with tenant_scope(acme):
        with pytest.raises(Crash):
            campaigns.close_overdue(acme, now=after)
        campaign.refresh_from_db()
        assert campaign.stage == 1 and not StageDecision.objects.exists()
        assert set(ReviewItem.objects.filter(campaign=campaign).values_list("stage", flat=True)) == {1}
        monkeypatch.setattr(stages, "_move_on", real)
        assert campaigns.close_overdue(acme, now=after) == 1
        assert campaigns.close_overdue(acme, now=after) == 0
        campaign.refresh_from_db()
        assert campaign.stage == 2 and StageDecision.objects.count() == campaign.item_count


def test_a_crash_mid_escalation_moves_nothing_and_the_next_run_moves_once(acme, acme_admin, acme_reviewer, monkeypatch):
    from reviews.services import escalation

    world = every_kind(acme, acme_reviewer)
    campaign = _campaign(acme, world, later_stages=[])
    with tenant_scope(acme):
        User.objects.filter(pk=acme_admin.pk).update(is_active=False)
        waiting = ReviewItem.objects.filter(campaign=campaign, reviewer=acme_admin).count()
        # the fallback's own access (the matrix of the role they hold) has nobody else to go to: it stays
        movable = (
            ReviewItem.objects.filter(campaign=campaign, reviewer=acme_admin)
            .exclude(own_access_q(acme_reviewer))
            .count()
        )
        assert 0 < movable <= waiting
    real = escalation._move

    def crash(*args):
        real(*args)
        raise Crash

    monkeypatch.setattr(escalation, "_move", crash)
    with tenant_scope(acme):
        with pytest.raises(Crash):
            escalate(acme)
        assert ReviewItem.objects.filter(campaign=campaign, reviewer=acme_admin).count() == waiting
        assert not AuditEvent.objects.filter(event_type="review.escalated").exists()
        monkeypatch.setattr(escalation, "_move", real)
        assert escalate(acme) == movable
        assert escalate(acme) == 0
        assert AuditEvent.objects.filter(event_type="review.escalated").count() >= 1
