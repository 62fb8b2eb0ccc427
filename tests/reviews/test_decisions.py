"""Decisions, routing, unanswered items and their guards, bulk decisions, exactly-once applying."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.scoping import tenant_scope
from audit.models import AuditEvent
from permissions.models import BuiltinRole, Grant
from reviews.models import ReviewCampaign, ReviewItem
from reviews.services import ReviewRefused, applying, campaigns, decisions
from tests.factories import UserFactory
from tests.reviews.helpers import age_user, grant_on, make_policy


def _open(tenant, **policy_values):
    """Make a policy that starts today and open its campaign now."""
    fallback = policy_values.pop("fallback")
    make_policy(tenant, fallback=fallback, start_date=timezone.now().date(), **policy_values)
    with tenant_scope(tenant):
        assert campaigns.open_due_campaigns(tenant) == 1
        return ReviewCampaign.objects.get(state="open")


def _old_user(tenant):
    user = UserFactory(tenant=tenant)
    age_user(user, 200)
    return user


def _close(tenant, campaign):
    with tenant_scope(tenant):
        campaigns.close_campaign(campaign, actor=None)
        campaign.refresh_from_db()
        applying.apply_campaign(campaign)
        campaign.refresh_from_db()
        return campaign


@pytest.mark.django_db
def test_reviewers_never_review_their_own_access_it_goes_to_the_fallback(acme, acme_admin, acme_admin2, acme_reviewer):
    campaign = _open(acme, fallback=acme_reviewer)
    with tenant_scope(acme):
        own = ReviewItem.objects.get(campaign=campaign, user=acme_admin, kind="role")
        assert own.reviewer_id != acme_admin.pk
        reviewer_own = ReviewItem.objects.get(campaign=campaign, user=acme_reviewer, kind="role")
        assert reviewer_own.reviewer_id in (acme_admin.pk, acme_admin2.pk)
        assert not ReviewItem.objects.filter(campaign=campaign, reviewer_id=models_f("user_id")).exists()


def models_f(name):
    from django.db.models import F

    return F(name)


@pytest.mark.django_db
def test_fallback_who_is_the_subject_is_skipped_for_another_administrator(acme, acme_admin, acme_admin2, acme_reviewer):
    campaign = _open(acme, fallback=acme_reviewer, reviewer_kind="chosen", reviewers=[acme_reviewer.pk])
    with tenant_scope(acme):
        item = ReviewItem.objects.get(campaign=campaign, user=acme_reviewer, kind="role")
        assert item.routed == "fallback" and item.reviewer_id in (acme_admin.pk, acme_admin2.pk)
        with pytest.raises(ReviewRefused):
            decisions.decide(item, actor=acme_reviewer, decision="keep", justification="mine")


@pytest.mark.django_db
def test_self_review_for_low_risk_scopes_and_risky_items_are_routed(acme, acme_admin, acme_reviewer):
    from tests.reviews.helpers import make_reviewer

    other = make_reviewer(acme, email="r2@acme.example")
    campaign = _open(acme, fallback=acme_reviewer, reviewer_kind="self")
    with tenant_scope(acme):
        low = ReviewItem.objects.get(campaign=campaign, user=other, kind="role")
        assert (low.reviewer_id, low.routed) == (other.pk, "self")
        decisions.decide(low, actor=other, decision="keep", justification="still needed")
        # the reviews grant is a system-module action: risky, so never self-reviewed
        risky = ReviewItem.objects.get(campaign=campaign, user=other, kind="grant")
        assert risky.reviewer_id != other.pk
    with tenant_scope(acme), pytest.raises(ReviewRefused):
        make_policy(acme, fallback=acme_reviewer, name="Risky self", reviewer_kind="self", scope_mode="risky")


@pytest.mark.django_db
def test_justification_rules_and_changes_until_close(acme, acme_admin, acme_reviewer):
    subject = UserFactory(tenant=acme)
    grant_on(acme, subject)
    campaign = _open(acme, fallback=acme_reviewer, include_roles=False)
    with tenant_scope(acme):
        item = ReviewItem.objects.get(campaign=campaign, user=subject)
        with pytest.raises(ReviewRefused):
            decisions.decide(item, actor=acme_admin, decision="revoke")
        decisions.decide(item, actor=acme_admin, decision="revoke", justification="no longer on the project")
        decisions.decide(item, actor=acme_admin, decision="keep")  # not flagged: keep needs no reason
        item.refresh_from_db()
        assert item.decision == "keep"
        with pytest.raises(ReviewRefused):  # not the assigned reviewer
            decisions.decide(item, actor=acme_reviewer, decision="revoke", justification="x")
    _close(acme, campaign)
    with tenant_scope(acme), pytest.raises(ReviewRefused):
        decisions.decide(item, actor=acme_admin, decision="revoke", justification="too late")


def _unanswered_case(acme, acme_admin, acme_reviewer, unanswered, **extra):
    """Two users with an unused, rare grant (recommend revoke) and one recently used common… (no rec)."""
    people = [_old_user(acme) for _ in range(4)]
    stale = grant_on(acme, people[0], resource_title="Old report", created_days_ago=150)
    fresh = grant_on(acme, people[1], created_days_ago=1)
    campaign = _open(acme, fallback=acme_reviewer, include_roles=False, unanswered=unanswered, **extra)
    campaign = _close(acme, campaign)
    with tenant_scope(acme):
        stale.refresh_from_db()
        fresh.refresh_from_db()
        return campaign, stale, fresh


@pytest.mark.django_db
def test_unanswered_keep_keeps_everything(acme, acme_admin, acme_reviewer):
    campaign, stale, fresh = _unanswered_case(acme, acme_admin, acme_reviewer, "keep")
    assert stale.revoked_at is None and fresh.revoked_at is None
    assert campaign.state == "applied"


@pytest.mark.django_db
def test_unanswered_revoke_revokes_everything_unanswered(acme, acme_admin, acme_reviewer):
    campaign, stale, fresh = _unanswered_case(acme, acme_admin, acme_reviewer, "revoke")
    assert stale.revoked_at is not None and fresh.revoked_at is not None


@pytest.mark.django_db
def test_unanswered_follow_recommendation_revokes_only_recommended(acme, acme_admin, acme_reviewer):
    campaign, stale, fresh = _unanswered_case(acme, acme_admin, acme_reviewer, "recommendation")
    assert stale.revoked_at is not None
    assert fresh.revoked_at is None
    with tenant_scope(acme):
        item = ReviewItem.objects.get(campaign=campaign, grant=stale)
        assert (item.final_decision, item.final_source, item.recommendation) == ("revoke", "unanswered", "revoke")
        event = AuditEvent.objects.filter(event_type="grant.revoked", target_id=str(stale.pk)).get()
        assert f"campaign {campaign.pk}, item {item.pk}" in event.reason


@pytest.mark.django_db
def test_share_guard_refuses_to_revoke_more_than_the_set_share_of_a_role(acme, acme_admin, acme_reviewer):
    campaign, stale, fresh = _unanswered_case(acme, acme_admin, acme_reviewer, "revoke", max_revoke_percent=10)
    assert stale.revoked_at is None and fresh.revoked_at is None
    with tenant_scope(acme):
        item = ReviewItem.objects.get(campaign=campaign, grant=stale)
        assert item.final_source == "guard" and "%" in item.final_note


@pytest.mark.django_db
def test_last_administrator_is_never_revoked(acme, acme_admin, acme_reviewer):
    campaign = _open(acme, fallback=acme_reviewer, include_grants=False, unanswered="revoke")
    campaign = _close(acme, campaign)
    with tenant_scope(acme):
        acme_admin.refresh_from_db()
        assert acme_admin.role.key == BuiltinRole.ADMINISTRATOR
        item = ReviewItem.objects.get(campaign=campaign, user=acme_admin)
        assert item.final_source == "guard"
        acme_reviewer.refresh_from_db()  # an Advanced user, unanswered: revoked down to Basic
        assert acme_reviewer.role.key == BuiltinRole.BASIC


@pytest.mark.django_db
def test_bulk_decisions_state_the_count_and_refuse_a_changed_selection(acme, acme_admin, acme_reviewer):
    people = [_old_user(acme) for _ in range(5)]
    for person in people:
        grant_on(acme, person, resource_title=f"Report of {person.pk}", created_days_ago=120)
    campaign = _open(acme, fallback=acme_reviewer, include_roles=False)
    with tenant_scope(acme):
        mine = ReviewItem.objects.filter(campaign=campaign, user__in=people)
        selection = decisions.bulk_selection(mine, actor=acme_admin, accept_recommendations=True)
        count = selection.count()
        assert count == 5  # every stale, rare grant is recommended for revocation
        with pytest.raises(ReviewRefused):
            decisions.bulk_decide(mine, actor=acme_admin, decision=None, expected=count + 1)
        assert decisions.bulk_decide(mine, actor=acme_admin, decision=None, expected=count) == 5
        assert set(mine.values_list("decision", flat=True)) == {"revoke"}
        assert AuditEvent.objects.filter(event_type="review.bulk_decided").count() == 1
        # keep-all on the same selection: earlier decisions change (until close)
        assert decisions.bulk_decide(mine, actor=acme_admin, decision="keep", justification="ok", expected=5) == 5
        # the reviewer of no item decides nothing
        assert decisions.bulk_selection(mine, actor=acme_reviewer, accept_recommendations=False).count() == 0


@pytest.mark.django_db
def test_an_item_is_applied_exactly_once_under_retry(acme, acme_admin, acme_reviewer):
    subject = UserFactory(tenant=acme)
    grant = grant_on(acme, subject)
    campaign = _open(acme, fallback=acme_reviewer, include_roles=False)
    with tenant_scope(acme):
        item = ReviewItem.objects.get(campaign=campaign, grant=grant)
        decisions.decide(item, actor=acme_admin, decision="revoke", justification="gone")
        campaigns.close_campaign(campaign, actor=None)
        assert applying.apply_item(item.pk) == "applied"
        assert applying.apply_item(item.pk) is None  # retry: already applied, nothing happens
        campaign.refresh_from_db()
        applying.apply_campaign(campaign)
        applying.apply_campaign(campaign)
        assert AuditEvent.objects.filter(event_type="grant.revoked", target_id=str(grant.pk)).count() == 1
        assert AuditEvent.objects.filter(event_type="review.campaign_applied").count() == 1


@pytest.mark.django_db
def test_a_failure_is_shown_on_the_item_and_audited_never_silent(acme, acme_admin, acme_reviewer):
    subject = UserFactory(tenant=acme)
    grant = grant_on(acme, subject)
    campaign = _open(acme, fallback=acme_reviewer, include_roles=False)
    with tenant_scope(acme):
        item = ReviewItem.objects.get(campaign=campaign, grant=grant)
        decisions.decide(item, actor=acme_admin, decision="revoke", justification="gone")
        campaigns.close_campaign(campaign, actor=None)
        # the reason would carry a secret-looking value: the audit layer refuses it, so the revoke fails
        ReviewItem.objects.filter(pk=item.pk).update(justification="password: hunter2")
        assert applying.apply_item(item.pk) == "failed"
        item.refresh_from_db()
        assert item.apply_result == "failed" and item.applied_at is None and item.apply_detail
        assert Grant.objects.get(pk=grant.pk).revoked_at is None
        assert AuditEvent.objects.filter(event_type="review.apply_failed", target_id=str(item.pk)).exists()


@pytest.mark.django_db
def test_retrying_failed_items_is_audited(acme, acme_admin, acme_reviewer):
    """retry_failed reopens an applied campaign and requeues its failed items: one review.apply_retried event."""
    subject = UserFactory(tenant=acme)
    grant = grant_on(acme, subject)
    campaign = _open(acme, fallback=acme_reviewer, include_roles=False)
    with tenant_scope(acme):
        item = ReviewItem.objects.get(campaign=campaign, grant=grant)
        decisions.decide(item, actor=acme_admin, decision="revoke", justification="gone")
        ReviewItem.objects.filter(pk=item.pk).update(justification="password: hunter2")  # makes the revoke fail
        campaign = _close(acme, campaign)
        assert campaign.state == ReviewCampaign.State.APPLIED
        assert applying.retry_failed(campaign, actor=acme_admin) == 1
        campaign.refresh_from_db()
        assert campaign.state == ReviewCampaign.State.CLOSED
        [event] = AuditEvent.objects.filter(event_type="review.apply_retried", target_id=str(campaign.pk))
        assert event.actor == acme_admin
        assert event.before == {"state": "applied"} and event.after == {"state": "closed", "retried": 1}
        assert applying.retry_failed(campaign, actor=acme_admin) == 0  # nothing failed: nothing to record
        assert AuditEvent.objects.filter(event_type="review.apply_retried").count() == 1


@pytest.mark.django_db
def test_reduce_shortens_a_grant_with_the_review_as_provenance(acme, acme_admin, acme_reviewer):
    subject = UserFactory(tenant=acme)
    grant = grant_on(acme, subject)
    campaign = _open(acme, fallback=acme_reviewer, include_roles=False)
    soon = timezone.now() + timedelta(days=10)
    with tenant_scope(acme):
        item = ReviewItem.objects.get(campaign=campaign, grant=grant)
        decisions.decide(
            item, actor=acme_admin, decision="reduce", justification="ten more days", reduce_expires_at=soon
        )
    _close(acme, campaign)
    with tenant_scope(acme):
        replacement = Grant.objects.get(user=subject, revoked_at__isnull=True)
        assert replacement.provenance == "review" and replacement.reference == f"campaign:{campaign.pk}/item:{item.pk}"
        assert replacement.expires_at == soon


@pytest.mark.django_db
def test_a_change_after_opening_is_shown_and_not_silently_merged(acme, acme_admin, acme_reviewer):
    from permissions.services import grants
    from reviews.presenting import changes_since_opening

    subject = UserFactory(tenant=acme)
    grant = grant_on(acme, subject)
    campaign = _open(acme, fallback=acme_reviewer, include_roles=False)
    with tenant_scope(acme):
        grants.revoke(grant, actor=acme_admin, reason="ended early")
        item = ReviewItem.objects.select_related("user").get(campaign=campaign, grant=grant)
        assert "revoked since opening" in changes_since_opening([item])[item.pk]
        assert item.snapshot["grant"] == grant.pk  # the snapshot stays as it was
        decisions.decide(item, actor=acme_admin, decision="revoke", justification="confirm")
    _close(acme, campaign)
    with tenant_scope(acme):
        item.refresh_from_db()
        assert item.apply_result == "nothing"


@pytest.mark.django_db
def test_one_failing_item_does_not_stop_the_batch_and_is_shown(acme, acme_admin, acme_reviewer):
    people = [UserFactory(tenant=acme) for _ in range(3)]
    made = [grant_on(acme, person) for person in people]
    campaign = _open(acme, fallback=acme_reviewer, include_roles=False)
    with tenant_scope(acme):
        items = [ReviewItem.objects.get(campaign=campaign, grant=grant) for grant in made]
        for item in items:
            decisions.decide(item, actor=acme_admin, decision="revoke", justification="gone")
        campaigns.close_campaign(campaign, actor=None)
        ReviewItem.objects.filter(pk=items[1].pk).update(justification="token: abc")  # refused by the audit layer
        campaign.refresh_from_db()
        assert applying.apply_campaign(campaign) == 2
        results = dict(ReviewItem.objects.filter(pk__in=[i.pk for i in items]).values_list("pk", "apply_result"))
        assert results == {items[0].pk: "applied", items[1].pk: "failed", items[2].pk: "applied"}
        campaign.refresh_from_db()
        assert campaign.state == "applied"  # settled, with the failure shown on its item and dashboard
        still = Grant.objects.filter(pk__in=[g.pk for g in made], revoked_at__isnull=True)
        assert list(still.values_list("pk", flat=True)) == [made[1].pk]


@pytest.mark.django_db
def test_no_decision_bulk_decision_or_reassignment_on_a_closed_campaign(acme, acme_admin, acme_reviewer):
    from reviews.services.errors import NOT_OPEN

    subject = UserFactory(tenant=acme)
    grant = grant_on(acme, subject)
    campaign = _open(acme, fallback=acme_reviewer, include_roles=False)
    with tenant_scope(acme):
        item = ReviewItem.objects.get(campaign=campaign, grant=grant)
        mine = ReviewItem.objects.filter(campaign=campaign, reviewer=acme_admin)
        count = decisions.bulk_selection(mine, actor=acme_admin, accept_recommendations=False).count()
        campaigns.close_campaign(campaign, actor=None)
        with pytest.raises(ReviewRefused) as refused:
            decisions.decide(item, actor=acme_admin, decision="revoke", justification="too late")
        assert refused.value.code == NOT_OPEN
        with pytest.raises(ReviewRefused):  # the confirmed selection is gone with the close
            decisions.bulk_decide(mine, actor=acme_admin, decision="keep", justification="late", expected=count)
        with pytest.raises(ReviewRefused) as refused:
            decisions.reassign(item, actor=acme_admin, to=acme_reviewer, reason="late")
        assert refused.value.code == NOT_OPEN
        item.refresh_from_db()
        assert (item.decision, item.reviewer_id, item.final_decision) == ("pending", acme_admin.pk, "keep")
        assert not AuditEvent.objects.filter(
            event_type__in=["review.decided", "review.bulk_decided", "review.reassigned"]
        ).exists()


@pytest.mark.django_db
def test_a_role_revoked_by_the_campaign_itself_is_not_a_change_since_opening(acme, acme_admin, acme_reviewer):
    from permissions.services import roles
    from reviews.presenting import changes_since_opening

    subject = UserFactory(tenant=acme, role_key=BuiltinRole.ADVANCED)
    campaign = _open(acme, fallback=acme_reviewer, include_grants=False)
    with tenant_scope(acme):
        item = ReviewItem.objects.get(campaign=campaign, user=subject, kind="role")
        decisions.decide(item, actor=item.reviewer, decision="revoke", justification="no longer needed")
    _close(acme, campaign)
    with tenant_scope(acme):
        item = ReviewItem.objects.select_related("user").get(pk=item.pk)
        assert item.apply_result == "applied" and item.user.role.key == BuiltinRole.BASIC
        assert changes_since_opening([item]) == {}
        # a later change by someone else is still shown
        support = roles.create_role(actor=None, tenant=acme, name="Support")
        roles.change_user_role(item.user, support, actor=None, reason="moved to support")
        item = ReviewItem.objects.select_related("user").get(pk=item.pk)
        assert "role changed since opening" in changes_since_opening([item])[item.pk]
