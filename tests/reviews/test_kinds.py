"""Reviews of everything that gives access: group memberships, groups' grants, roles' matrices,
organisation memberships and sharing rules; each revoke applied once, through its audited service."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import User
from accounts.scoping import tenant_scope
from audit.models import AuditEvent
from permissions import engine
from permissions.models import Grant, GroupMembership, Resource, SharingRule
from permissions.services.roles import matrix_of
from reviews.models import ReviewCampaign, ReviewItem
from reviews.services import ReviewRefused, applying, campaigns, decisions
from reviews.services.errors import SELF_REVIEW
from tests.reviews.helpers import NEW_KINDS, every_kind, make_policy

CHANGES = ("group.member_removed", "role.matrix_changed", "sharing_rule.deleted", "user.organisation_changed")


@pytest.fixture
def world(acme, acme_admin, acme_reviewer):
    return every_kind(acme, acme_reviewer)


def _open(tenant, fallback, **values):
    make_policy(tenant, fallback=fallback, start_date=timezone.now().date(), **{**NEW_KINDS, **values})
    with tenant_scope(tenant):
        assert campaigns.open_due_campaigns(tenant) == 1
        return ReviewCampaign.objects.get(state="open")


def _keys(world, sales_grant):
    return {
        "membership": f"membership:{GroupMembership.objects.get(user=world['alice']).pk}",
        "group_grant": f"group_grant:{sales_grant.pk}",
        "matrix": f"matrix:{world['analyst'].pk}:{sales_grant.module_id}",
        "organisation": f"organisation:{world['alice'].pk}",
        "sharing": f"sharing:{world['rule'].pk}",
    }


def test_a_campaign_holds_one_item_per_access_of_every_new_kind(acme, acme_admin, world):
    campaign = _open(acme, world["reviewer"])
    with tenant_scope(acme):
        sales_grant = Grant.objects.get(group=world["sales"])
        items = {i.access_key: i for i in ReviewItem.objects.filter(campaign=campaign)}
        keys = _keys(world, sales_grant)
        assert set(keys.values()) <= set(items)
        assert {i.kind for i in items.values()} == {"membership", "group_grant", "matrix", "organisation", "sharing"}
        assert not any(key.startswith(("role:", "grant:")) for key in items)
        membership = items[keys["membership"]]
        assert (membership.user_id, membership.target_id) == (world["alice"].pk, world["sales"].pk)
        assert membership.snapshot["group_name"] == "Sales"
        group_grant = items[keys["group_grant"]]
        assert group_grant.user_id is None and group_grant.grant_id == sales_grant.pk
        assert group_grant.evidence["holders"] == 2  # owner@ and alice
        matrix = items[keys["matrix"]]
        assert (matrix.role_id, matrix.snapshot["module"], matrix.snapshot["actions"]) == (
            world["analyst"].pk,
            "reports",
            ["view"],
        )
        assert items[keys["organisation"]].snapshot["organisation_name"] == "Initech"
        assert items[keys["sharing"]].snapshot["name"] == "Own reports"
        # the Administrator role's matrix is never an item: it always holds everything
        assert not [k for k in items if k.startswith("matrix:") and items[k].snapshot["role"] == "administrator"]


def test_a_deactivated_member_is_recommended_for_removal(acme, acme_admin, world):
    with tenant_scope(acme):
        User.objects.filter(pk=world["bob"].pk).update(is_active=False)
    campaign = _open(acme, world["reviewer"])
    with tenant_scope(acme):
        item = ReviewItem.objects.get(campaign=campaign, access_key=f"organisation:{world['bob'].pk}")
        assert item.recommendation == "revoke" and item.flagged


def _decide_all(tenant, campaign, keys, decision="revoke"):
    with tenant_scope(tenant):
        for key in keys:
            item = ReviewItem.objects.get(campaign=campaign, access_key=key)
            reviewer = User.objects.get(pk=item.reviewer_id)
            decisions.decide(item, actor=reviewer, decision=decision, justification="no longer needed")


def test_revoking_each_kind_goes_through_its_service_once(acme, acme_admin, world):
    campaign = _open(acme, world["reviewer"])
    with tenant_scope(acme):
        sales_grant = Grant.objects.get(group=world["sales"])
        keys = _keys(world, sales_grant)
    _decide_all(acme, campaign, keys.values())
    with tenant_scope(acme):
        campaigns.close_campaign(campaign, actor=None)
        campaign.refresh_from_db()
        assert applying.apply_campaign(campaign) == 5
        results = dict(
            ReviewItem.objects.filter(access_key__in=keys.values()).values_list("access_key", "apply_result")
        )
        assert set(results.values()) == {"applied"}
        assert not GroupMembership.objects.filter(user=world["alice"], group=world["sales"]).exists()
        sales_grant.refresh_from_db()
        assert sales_grant.revoked_at is not None
        assert "reports" not in matrix_of(world["analyst"])
        assert User.objects.get(pk=world["alice"].pk).organisation_id is None
        assert not SharingRule.objects.filter(pk=world["rule"].pk).exists()
        carol = User.objects.get(pk=world["carol"].pk)
        assert not engine.can(carol, "view", "reports")
        for event in ("group.member_removed", "grant.revoked", "role.matrix_changed", "sharing_rule.deleted"):
            assert AuditEvent.objects.filter(event_type=event).exists(), event
        counted = {
            e: AuditEvent.objects.filter(event_type=e).count()
            for e in (
                "group.member_removed",
                "role.matrix_changed",
                "sharing_rule.deleted",
                "user.organisation_changed",
            )
        }
        campaign.refresh_from_db()
        assert campaign.state == "applied"
        # exactly once: applying again changes nothing and writes nothing
        assert applying.apply_campaign(campaign) == 0
        for item_id in ReviewItem.objects.filter(access_key__in=keys.values()).values_list("pk", flat=True):
            assert applying.apply_item(item_id) is None
        assert counted == {
            e: AuditEvent.objects.filter(event_type=e).count()
            for e in (
                "group.member_removed",
                "role.matrix_changed",
                "sharing_rule.deleted",
                "user.organisation_changed",
            )
        }


def test_access_changed_since_opening_is_left_alone(acme, acme_admin, world):
    from permissions.services import organisations as orgs
    from permissions.services import roles

    campaign = _open(acme, world["reviewer"])
    with tenant_scope(acme):
        keys = _keys(world, Grant.objects.get(group=world["sales"]))
    _decide_all(acme, campaign, [keys["matrix"], keys["organisation"]])
    with tenant_scope(acme):
        roles.set_role_matrix(world["analyst"], {"reports": ["view", "export"]}, actor=None)
        umbrella = orgs.create_organisation(actor=None, tenant=acme, name="Umbrella")
        orgs.set_user_organisation(User.objects.get(pk=world["alice"].pk), umbrella, actor=None)
        campaigns.close_campaign(campaign, actor=None)
        campaign.refresh_from_db()
        applying.apply_campaign(campaign)
        results = set(
            ReviewItem.objects.filter(access_key__in=[keys["matrix"], keys["organisation"]]).values_list(
                "apply_result", flat=True
            )
        )
        assert results == {"unchanged"}
        assert matrix_of(world["analyst"])["reports"]
        assert User.objects.get(pk=world["alice"].pk).organisation_id == umbrella.pk


def test_unanswered_shared_access_is_never_revoked_by_default(acme, acme_admin, world):
    campaign = _open(acme, world["reviewer"], unanswered="revoke")
    with tenant_scope(acme):
        keys = _keys(world, Grant.objects.get(group=world["sales"]))
        campaigns.close_campaign(campaign, actor=None)
        finals = dict(ReviewItem.objects.filter(access_key__in=keys.values()).values_list("access_key", "final_source"))
        assert finals[keys["group_grant"]] == finals[keys["matrix"]] == finals[keys["sharing"]] == "guard"
        assert finals[keys["membership"]] == finals[keys["organisation"]] == "unanswered"


def test_nobody_reviews_access_that_reaches_them(acme, acme_admin, world):
    """The group's owner is its member, carol holds Analyst, Initech's members get the sharing rule."""
    from permissions.services import roles

    with tenant_scope(acme):
        roles.change_user_role(world["orgadmin"], world["analyst"], actor=None)  # orgadmin now holds Analyst
        from permissions.services import organisations as orgs

        orgs.set_user_organisation(world["owner"], world["initech"], actor=None)  # the rule reaches owner@
    campaign = _open(acme, world["orgadmin"], reviewer_kind="owners", role_owners={})
    with tenant_scope(acme):
        keys = _keys(world, Grant.objects.get(group=world["sales"]))
        items = {i.access_key: i for i in ReviewItem.objects.filter(campaign=campaign, access_key__in=keys.values())}
        # the group's owner reviews alice's membership but not the grant the group (and so owner@) holds
        assert items[keys["membership"]].reviewer_id == world["owner"].pk
        assert items[keys["group_grant"]].reviewer_id != world["owner"].pk
        # the fallback (orgadmin) holds Analyst now: the matrix goes to an administrator instead
        assert items[keys["matrix"]].reviewer_id == acme_admin.pk
        assert items[keys["sharing"]].reviewer_id not in (world["owner"].pk, world["alice"].pk, world["bob"].pk)
        # and the decision service refuses it too, whoever the item is handed to
        grant_item = items[keys["group_grant"]]
        with pytest.raises(ReviewRefused) as refused:
            decisions.reassign(grant_item, actor=acme_admin, to=world["owner"], reason="owner")
        assert refused.value.code == SELF_REVIEW
        ReviewItem.objects.filter(pk=grant_item.pk).update(reviewer=world["owner"])  # as if routed by mistake
        grant_item.refresh_from_db()
        with pytest.raises(ReviewRefused) as refused:
            decisions.decide(grant_item, actor=world["owner"], decision="keep", justification="mine")
        assert refused.value.code == SELF_REVIEW
        mine = ReviewItem.objects.filter(reviewer=world["owner"])
        selection = decisions.bulk_selection(mine, actor=world["owner"], accept_recommendations=False)
        assert grant_item.pk not in set(selection.values_list("pk", flat=True))


def test_only_grants_and_roles_can_be_reduced(acme, acme_admin, world):
    campaign = _open(acme, world["reviewer"])
    with tenant_scope(acme):
        item = ReviewItem.objects.filter(campaign=campaign, kind="membership").first()
        reviewer = User.objects.get(pk=item.reviewer_id)
        with pytest.raises(ReviewRefused):
            decisions.decide(
                item,
                actor=reviewer,
                decision="reduce",
                justification="less",
                reduce_expires_at=timezone.now() + timedelta(days=3),
            )


def test_organisation_members_are_routed_to_their_organisation_administrator(acme, acme_admin, world):
    campaign = _open(acme, world["reviewer"], reviewer_kind="organisation_admins")
    with tenant_scope(acme):
        item = ReviewItem.objects.get(campaign=campaign, access_key=f"organisation:{world['bob'].pk}")
        assert (item.reviewer_id, item.routed) == (world["orgadmin"].pk, "")
        assert Resource.objects.filter(pk=world["initech"].resource_id).exists()
