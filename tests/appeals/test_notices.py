"""Issue 17 item 5: a customer whose access is revoked or reduced is told, whatever took it away (one audit
listener): an administrator's revocation, an access review (revoke and reduce), the expiry job, a role with fewer
rights, leaving a group that held grants, a role matrix that lost rights. The notice carries the reason and links
to the appeal form; the e-mail goes after the commit, and a rolled-back change tells nobody."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from accessrequests.models import Notice
from accessrequests.notify import notice_link, notice_text
from permissions.models import Role
from permissions.services import grants, groups, roles
from permissions.services.grants import expire_due_grants
from permissions.vocabulary import Action


def _notices(user, kind=None):
    rows = Notice.objects.filter(user=user)
    return list(rows.filter(kind=kind) if kind else rows)


def test_an_administrators_revocation_tells_the_customer_with_the_reason_and_an_appeal_link(
    in_acme, acme_admin, customer, reports, mailoutbox, django_capture_on_commit_callbacks
):
    grant = grants.grant(actor=acme_admin, module=reports, user=customer, actions=[Action.VIEW], reason="Q3")
    with django_capture_on_commit_callbacks(execute=True):
        grants.revoke(grant, actor=acme_admin, reason="The project ended")
    [notice] = _notices(customer, Notice.Kind.ACCESS_REVOKED)
    text = notice_text(notice.kind, notice.params)
    assert "Reports (View) was revoked" in text and "The project ended" in text
    assert notice_link(notice.kind, notice.params) == f"/appeals/new/?kind=revocation&grant={grant.pk}"
    [mail] = mailoutbox
    assert mail.to == [customer.email] and "The project ended" in mail.body
    assert f"/appeals/new/?kind=revocation&grant={grant.pk}" in mail.body


def test_a_rolled_back_revocation_tells_nobody(in_acme, acme_admin, customer, reports, mailoutbox):
    grant = grants.grant(actor=acme_admin, module=reports, user=customer, actions=[Action.VIEW], reason="Q3")

    def revoke_then_fail():
        with transaction.atomic():
            grants.revoke(grant, actor=acme_admin, reason="undone")
            raise RuntimeError("the change fails after its event")

    with pytest.raises(RuntimeError):
        revoke_then_fail()
    assert _notices(customer) == [] and mailoutbox == []


def test_the_expiry_job_tells_the_customer_that_their_access_ended(in_acme, acme_admin, customer, reports):
    grants.grant(
        actor=acme_admin,
        module=reports,
        user=customer,
        actions=[Action.VIEW, Action.EXPORT],
        reason="Q3",
        expires_at=timezone.now() + timedelta(hours=1),
    )
    assert expire_due_grants(tenant=in_acme, now=timezone.now() + timedelta(hours=2)) == 1
    [notice] = _notices(customer, Notice.Kind.ACCESS_EXPIRED)
    assert "Reports (View, Export) ended on" in notice_text(notice.kind, notice.params)
    assert expire_due_grants(tenant=in_acme, now=timezone.now() + timedelta(hours=3)) == 0
    assert len(_notices(customer, Notice.Kind.ACCESS_EXPIRED)) == 1  # once, like the event


def test_every_member_hears_when_a_groups_grant_is_revoked(in_acme, acme_admin, customer, other_customer, reports):
    team = groups.create_group(actor=acme_admin, tenant=in_acme, name="Analysts")
    for person in (customer, other_customer):
        groups.add_member(team, person, actor=acme_admin)
    grant = grants.grant(actor=acme_admin, module=reports, group=team, actions=[Action.VIEW], reason="team")
    grants.revoke(grant, actor=acme_admin, reason="Team disbanded")
    assert len(_notices(customer, Notice.Kind.ACCESS_REVOKED)) == 1
    assert len(_notices(other_customer, Notice.Kind.ACCESS_REVOKED)) == 1


def test_leaving_a_group_that_held_grants_is_told_and_an_empty_group_is_not(
    in_acme, acme_admin, customer, other_customer, reports
):
    team = groups.create_group(actor=acme_admin, tenant=in_acme, name="Analysts")
    plain = groups.create_group(actor=acme_admin, tenant=in_acme, name="Newsletter")
    groups.add_member(team, customer, actor=acme_admin)
    groups.add_member(plain, other_customer, actor=acme_admin)
    grants.grant(actor=acme_admin, module=reports, group=team, actions=[Action.VIEW], reason="team")
    groups.remove_member(team, customer, actor=acme_admin)
    groups.remove_member(plain, other_customer, actor=acme_admin)
    [notice] = _notices(customer, Notice.Kind.ACCESS_REDUCED)
    assert "removed from the group Analysts" in notice_text(notice.kind, notice.params)
    assert "Reports: View" in notice_text(notice.kind, notice.params)
    assert _notices(other_customer) == []


def test_a_role_with_fewer_rights_is_told_and_a_role_with_more_is_not(in_acme, acme_admin, customer):
    advanced, basic = Role.objects.get(key="advanced"), Role.objects.get(key="basic")
    roles.change_user_role(customer, advanced, actor=acme_admin, reason="promotion")
    assert _notices(customer) == []
    customer.refresh_from_db()
    roles.change_user_role(customer, basic, actor=acme_admin, reason="Moved to the front desk")
    [notice] = _notices(customer, Notice.Kind.ACCESS_REDUCED)
    text = notice_text(notice.kind, notice.params)
    assert "from Advanced user to Basic user" in text and "Moved to the front desk" in text


def test_a_matrix_that_loses_rights_tells_every_active_holder(in_acme, acme_admin, customer, other_customer):
    role = roles.create_role(actor=acme_admin, tenant=in_acme, name="Analyst")
    roles.set_role_matrix(role, {"reports": ["view", "export"], "products": ["view"]}, actor=acme_admin)
    for person in (customer, other_customer):
        roles.change_user_role(person, role, actor=acme_admin)  # more than Basic: nothing to tell
    roles.set_role_matrix(role, {"reports": ["view"], "products": ["view"]}, actor=acme_admin, reason="No exports")
    for person in (customer, other_customer):
        [notice] = _notices(person, Notice.Kind.ACCESS_REDUCED)
        assert "Reports: Export" in notice_text(notice.kind, notice.params)


def test_an_access_reviews_revoke_and_reduce_are_told_as_such(in_acme, acme, acme_admin, customer, other_customer):
    from reviews.models import ReviewCampaign, ReviewItem
    from reviews.services import applying, campaigns, decisions
    from tests.reviews.helpers import grant_on, make_policy

    revoked, shortened = grant_on(acme, customer), grant_on(acme, other_customer)
    make_policy(acme, fallback=acme_admin, include_roles=False, start_date=timezone.now().date())
    campaigns.open_due_campaigns(acme)
    campaign = ReviewCampaign.objects.get(state="open")
    item = ReviewItem.objects.get(campaign=campaign, grant=revoked)
    decisions.decide(item, actor=acme_admin, decision="revoke", justification="Left the project")
    item = ReviewItem.objects.get(campaign=campaign, grant=shortened)
    end = timezone.now() + timedelta(days=10)
    decisions.decide(
        item, actor=acme_admin, decision="reduce", justification="Only until the audit", reduce_expires_at=end
    )
    campaigns.close_campaign(campaign, actor=None)
    applying.apply_campaign(ReviewCampaign.objects.get(pk=campaign.pk))
    [notice] = _notices(customer, Notice.Kind.ACCESS_REVOKED)
    assert "Left the project" in notice_text(notice.kind, notice.params)
    assert _notices(other_customer, Notice.Kind.ACCESS_REVOKED) == []
    [notice] = _notices(other_customer, Notice.Kind.ACCESS_REDUCED)
    assert "An access review shortened your access to Reports" in notice_text(notice.kind, notice.params)


def test_the_notice_is_in_the_customers_language(in_acme, acme_admin, customer, reports):
    from django.utils import translation

    grant = grants.grant(actor=acme_admin, module=reports, user=customer, actions=[Action.VIEW], reason="Q3")
    grants.revoke(grant, actor=acme_admin, reason="done")
    [notice] = _notices(customer)
    with translation.override("zh-hans"):
        text = notice_text(notice.kind, notice.params)
    assert "Reports" not in text and "done" in text
