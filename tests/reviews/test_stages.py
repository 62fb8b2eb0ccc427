"""Multi-stage campaigns: the organisation administrator, then the reviewer; later stages see earlier
decisions; what an earlier stage revoked is not asked again; the stage windows are kept by the scheduler."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import User
from accounts.scoping import tenant_scope
from audit.models import AuditEvent
from reviews.models import ReviewCampaign, ReviewItem, StageDecision
from reviews.services import ReviewRefused, applying, campaigns, decisions, stages
from reviews.services.policies import save_policy
from tests.reviews.helpers import NEW_KINDS, every_kind, make_policy


@pytest.fixture
def world(acme, acme_admin, acme_reviewer):
    return every_kind(acme, acme_reviewer)


def _two_stages(acme, world, **values):
    later = [
        {
            "reviewer_kind": "chosen",
            "reviewers": [world["reviewer"].pk],
            "fallback": world["reviewer"].pk,
            "duration_days": 7,
        }
    ]
    return make_policy(
        acme,
        fallback=world["orgadmin"],
        start_date=timezone.now().date(),
        reviewer_kind="organisation_admins",
        duration_days=7,
        later_stages=later,
        **{**NEW_KINDS, **values},
    )


def _org_items(campaign, world):
    return {
        name: ReviewItem.objects.get(campaign=campaign, access_key=f"organisation:{world[name].pk}")
        for name in ("alice", "bob")
    }


def test_two_stages_the_organisation_administrator_then_the_reviewer(acme, acme_admin, world):
    policy = _two_stages(acme, world)
    with tenant_scope(acme):
        campaigns.open_due_campaigns(acme)
        campaign = ReviewCampaign.objects.get(state="open")
        assert (campaign.stage, campaign.stage_count) == (1, 2)
        assert campaign.due_at - campaign.opens_at == timedelta(days=14)
        assert campaign.stage_due_at == campaign.opens_at + timedelta(days=7)
        items = _org_items(campaign, world)
        assert {i.reviewer_id for i in items.values()} == {world["orgadmin"].pk}
        decisions.decide(items["alice"], actor=world["orgadmin"], decision="revoke", justification="left Initech")
        decisions.decide(items["bob"], actor=world["orgadmin"], decision="keep", justification="still there")

        assert stages.advance_stage(campaign, actor=acme_admin, stage=1)
        assert not stages.advance_stage(campaign, actor=acme_admin, stage=1)  # once
        campaign.refresh_from_db()
        assert campaign.stage == 2 and campaign.stage_due_at == campaign.due_at
        items = {name: ReviewItem.objects.get(pk=item.pk) for name, item in items.items()}
        # what stage 1 revoked stays settled with its first reviewer; what it kept moves to the reviewer
        assert (items["alice"].stage, items["alice"].decision, items["alice"].reviewer_id) == (
            1,
            "revoke",
            world["orgadmin"].pk,
        )
        assert (items["bob"].stage, items["bob"].decision, items["bob"].reviewer_id) == (
            2,
            "pending",
            world["reviewer"].pk,
        )
        history = StageDecision.objects.get(item=items["bob"], stage=1)
        assert (history.decision, history.decided_by_id, history.justification) == (
            "keep",
            world["orgadmin"].pk,
            "still there",
        )
        # the first stage can no longer change anything
        with pytest.raises(ReviewRefused):
            decisions.decide(items["alice"], actor=world["orgadmin"], decision="keep", justification="oops")
        decisions.decide(items["bob"], actor=world["reviewer"], decision="revoke", justification="no contract")
        assert AuditEvent.objects.filter(event_type="review.stage_advanced", target_id=str(campaign.pk)).count() == 1

        campaigns.close_overdue(acme, now=campaign.due_at + timedelta(minutes=1))
        campaign.refresh_from_db()
        applying.apply_campaign(campaign)
        assert User.objects.get(pk=world["alice"].pk).organisation_id is None
        assert User.objects.get(pk=world["bob"].pk).organisation_id is None
        assert policy.total_days == 14


def test_the_reviewer_sees_only_the_current_stage_with_earlier_decisions(acme, acme_admin, world, client):
    from tests.conftest import login

    _two_stages(acme, world)
    with tenant_scope(acme):
        campaigns.open_due_campaigns(acme)
        campaign = ReviewCampaign.objects.get(state="open")
        items = _org_items(campaign, world)
        decisions.decide(items["alice"], actor=world["orgadmin"], decision="revoke", justification="left Initech")
        decisions.decide(items["bob"], actor=world["orgadmin"], decision="keep", justification="still there")
    login(client, world["reviewer"])
    page = client.get("/reviews/mine/").content.decode()
    assert f'id="item-{items["bob"].pk}"' not in page  # stage 1 is not the reviewer's
    with tenant_scope(acme):
        stages.advance_stage(campaign, actor=None, stage=1)
    page = client.get("/reviews/mine/").content.decode()
    assert f'id="item-{items["bob"].pk}"' in page
    assert f'id="item-{items["alice"].pk}"' not in page  # revoked at stage 1: not asked again
    assert "Stage 1: Keep by orgadmin@acme.example (still there)" in page
    # the stage-1 reviewer cannot post on the item any longer
    client.logout()
    login(client, world["orgadmin"])
    response = client.post(f"/reviews/items/{items['alice'].pk}/decide/", {"decision": "keep", "justification": "x"})
    assert response.status_code == 404


def test_the_scheduler_ends_each_stage_on_time_even_after_being_down(acme, acme_admin, world):
    _two_stages(acme, world)
    with tenant_scope(acme):
        campaigns.open_due_campaigns(acme)
        campaign = ReviewCampaign.objects.get(state="open")
        assert campaigns.close_overdue(acme, now=campaign.stage_due_at - timedelta(minutes=1)) == 0
        assert campaigns.close_overdue(acme, now=campaign.stage_due_at + timedelta(minutes=1)) == 1
        campaign.refresh_from_db()
        assert (campaign.state, campaign.stage) == ("open", 2)
        # unanswered at stage 1: asked again at stage 2 (nothing was decided)
        assert not ReviewItem.objects.filter(campaign=campaign, stage=1).exists()
    # a second policy's campaign, scheduler down for both stages: one run moves through both
    with tenant_scope(acme):
        campaigns.cancel_campaign(campaign, actor=None, reason="test")
    _two_stages(acme, world, name="Second")
    with tenant_scope(acme):
        campaigns.open_due_campaigns(acme)
        second = ReviewCampaign.objects.get(state="open")
        assert campaigns.close_overdue(acme, now=second.due_at + timedelta(hours=1)) == 2
        second.refresh_from_db()
        assert (second.state, second.stage) == ("closed", 2)
        assert AuditEvent.objects.filter(event_type="review.stage_advanced", target_id=str(second.pk)).count() == 1


def test_stage_reminders_count_per_stage(acme, acme_admin, world):
    _two_stages(acme, world)
    with tenant_scope(acme):
        campaigns.open_due_campaigns(acme)
        campaign = ReviewCampaign.objects.get(state="open")
        assert campaigns.send_reminders(acme, now=campaign.mid_point + timedelta(minutes=1)) == 1
        assert campaigns.send_reminders(acme, now=campaign.mid_point + timedelta(minutes=2)) == 0
        stages.advance_stage(campaign, actor=None, stage=1, now=campaign.stage_due_at)
        campaign.refresh_from_db()
        assert campaigns.send_reminders(acme, now=campaign.mid_point + timedelta(minutes=1)) == 1


def test_policy_stages_are_checked(acme, acme_admin, world):
    base = {
        "name": "Staged",
        "include_roles": True,
        "include_grants": True,
        "scope_mode": "all",
        "cadence": "quarterly",
        "start_date": timezone.now().date(),
        "duration_days": 14,
        "reviewer_kind": "administrators",
        "fallback_reviewer": world["reviewer"],
        "unanswered": "keep",
        "max_revoke_percent": 25,
    }
    stage = {"reviewer_kind": "chosen", "reviewers": [world["reviewer"].pk], "fallback": world["reviewer"].pk}
    bad = [
        [{**stage, "duration_days": 2}],
        [{**stage, "duration_days": 7, "fallback": world["alice"].pk}],  # may not review
        [{**stage, "duration_days": 7, "reviewer_kind": "self"}],
        [{**stage, "duration_days": 7}] * 3,  # four stages
        [{**stage, "duration_days": 7, "reviewers": []}],
    ]
    with tenant_scope(acme):
        for later in bad:
            with pytest.raises(ReviewRefused):
                save_policy(actor=acme_admin, tenant=acme, values={**base, "later_stages": later})
        saved = save_policy(
            actor=acme_admin, tenant=acme, values={**base, "later_stages": [{**stage, "duration_days": 7}]}
        )
        assert saved.later_stages[0]["fallback"] == world["reviewer"].pk and saved.total_days == 21


def _form(reviewer, fallback, **extra):
    return {
        "name": "Staged by the form",
        "include_memberships": "on",
        "include_matrices": "on",
        "scope_mode": "all",
        "cadence": "quarterly",
        "start_date": "2026-07-01",
        "duration_days": "7",
        "reviewer_kind": "organisation_admins",
        "fallback": fallback.pk,
        "unanswered": "keep",
        "max_revoke_percent": "25",
        "stage2_kind": "chosen",
        "stage2_reviewers": [reviewer.pk],
        "stage2_fallback": fallback.pk,
        "stage2_days": "10",
        **extra,
    }


def test_the_policy_form_saves_stages_and_role_owners(acme, acme_admin, admin_client_acme, world):
    from reviews.models import ReviewPolicy

    analyst = world["analyst"]
    response = admin_client_acme.post(
        "/reviews/policies/new/",
        _form(world["reviewer"], world["orgadmin"], **{f"role_owner_{analyst.pk}": world["owner"].pk}),
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    with tenant_scope(acme):
        policy = ReviewPolicy.objects.get(name="Staged by the form")
    assert policy.later_stages == [
        {
            "reviewer_kind": "chosen",
            "reviewers": [world["reviewer"].pk],
            "fallback": world["orgadmin"].pk,
            "duration_days": 10,
        }
    ]
    assert policy.role_owners == {str(analyst.pk): world["owner"].pk}
    assert (policy.include_memberships, policy.include_matrices, policy.include_sharing) == (True, True, False)
    page = admin_client_acme.get(f"/reviews/policies/{policy.pk}/").content.decode()
    assert 'name="stage2_days" value="10"' in page


def test_the_policy_form_refuses_a_stage_reviewer_of_another_tenant(acme, acme_admin, admin_client_acme, world, globex):
    from tests.reviews.helpers import make_reviewer

    stranger = make_reviewer(globex)
    response = admin_client_acme.post("/reviews/policies/new/", _form(stranger, world["orgadmin"]))
    assert response.status_code == 200
    with tenant_scope(acme):
        from reviews.models import ReviewPolicy

        assert not ReviewPolicy.objects.filter(name="Staged by the form").exists()
