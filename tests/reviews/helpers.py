"""Building blocks of the review tests: a reviewer, a policy, grants and usage with chosen dates."""

from __future__ import annotations

from datetime import date, timedelta

from django.utils import timezone

from accounts.scoping import tenant_scope
from permissions.models import BuiltinRole, Grant, Module, Resource, UsageRecord
from permissions.services import grants, modules
from permissions.vocabulary import Action
from reviews.services.policies import save_policy
from tests.factories import UserFactory


def make_reviewer(tenant, email=None):
    """An Advanced user who holds reviews: view + review (granted by the system, as the demo seeds it)."""
    user = UserFactory(tenant=tenant, email=email or f"reviewer@{tenant.slug}.example", role_key=BuiltinRole.ADVANCED)
    with tenant_scope(tenant):
        grants.grant(
            actor=None,
            module=Module.objects.get(key="reviews"),
            user=user,
            actions=[Action.VIEW, Action.REVIEW],
            reason="Reviewer of access",
        )
    return user


def make_policy(tenant, *, fallback, actor=None, **values):
    """A policy saved through the service (defaults: quarterly from 1 Jan 2026, all users, roles and grants)."""
    base = {
        "name": "Quarterly review",
        "include_roles": True,
        "include_grants": True,
        "scope_mode": "all",
        "cadence": "quarterly",
        "start_date": date(2026, 1, 1),
        "duration_days": 14,
        "reviewer_kind": "administrators",
        "fallback_reviewer": fallback,
        "unanswered": "keep",
        "max_revoke_percent": 100,
        "auto_apply": True,
        "reminders": True,
        "justify_keep_flagged": True,
        "justify_revoke": True,
        "active": True,
    }
    base.update(values)
    with tenant_scope(tenant):
        return save_policy(actor=actor, tenant=tenant, values=base)


def grant_on(tenant, user, module_key="reports", *, resource_title=None, actions=(Action.VIEW,), created_days_ago=0):
    """A direct grant (made by the system), back-dated ``created_days_ago``."""
    with tenant_scope(tenant):
        module = Module.objects.get(key=module_key)
        resource = None
        if resource_title:
            resource = Resource.objects.filter(module=module, title=resource_title).first() or modules.create_resource(
                actor=None, module=module, title=resource_title, description="", attributes={}
            )
        made = grants.grant(
            actor=None, module=module, resource=resource, user=user, actions=list(actions), reason="Project work"
        )
        if created_days_ago:
            Grant.objects.filter(pk=made.pk).update(created_at=timezone.now() - timedelta(days=created_days_ago))
            made.refresh_from_db()
        return made


def used(tenant, user, module_key="reports", *, days_ago, action=Action.VIEW, resource=None):
    """A usage record: ``user`` last used ``action`` on the module (or resource) ``days_ago`` days ago."""
    with tenant_scope(tenant):
        module = Module.objects.get(key=module_key)
        key = f"r{resource.pk}" if resource else f"m{module.pk}"
        UsageRecord.objects.update_or_create(
            tenant=tenant,
            user=user,
            target_key=key,
            action=action.value if hasattr(action, "value") else action,
            defaults={
                "module": module,
                "resource": resource,
                "last_used_at": timezone.now() - timedelta(days=days_ago),
            },
        )


def _foreign_delegation(tenant):
    """A delegation of ``tenant``'s reviewer (its reason must not leak)."""
    from reviews.services.delegations import delegate

    first = make_reviewer(tenant, f"delegator@{tenant.slug}.example")
    second = make_reviewer(tenant, f"delegate@{tenant.slug}.example")
    now = timezone.now()
    with tenant_scope(tenant):
        made = delegate(
            actor=first, to=second, starts_at=now, ends_at=now + timedelta(days=5), reason="Secret sabbatical plans"
        )
    return made.pk, made.reason


def age_user(user, days):
    """Pretend the user joined ``days`` ago."""
    from accounts.models import User

    with tenant_scope(user.tenant):
        User.objects.filter(pk=user.pk).update(date_joined=timezone.now() - timedelta(days=days))
    user.refresh_from_db()


def foreign_review(tenant, what):
    """For the AZ-1 walker: a policy / open campaign / item in ``tenant``; the subject's e-mail must not leak."""
    from reviews.models import ReviewItem
    from reviews.services.campaigns import open_due_campaigns

    if what == "delegation":
        return _foreign_delegation(tenant)
    admin = UserFactory(tenant=tenant, role_key=BuiltinRole.ADMINISTRATOR)
    subject = UserFactory(tenant=tenant, email=f"secret-subject@{tenant.slug}.example")
    grant_on(tenant, subject)
    today = timezone.now().date()
    policy = make_policy(tenant, fallback=admin, name="Foreign policy", start_date=today)
    with tenant_scope(tenant):
        open_due_campaigns(tenant)
        item = ReviewItem.objects.filter(user=subject).select_related("campaign").first()
    if what == "policy":
        return policy.pk, policy.name
    if what == "campaign":
        return item.campaign_id, item.campaign.name
    return item.pk, subject.email


def every_kind(tenant, reviewer):
    """A tenant holding one access of every kind beyond roles and direct grants, and who owns what:

    - Initech (organisation) administered by ``orgadmin@`` (a reviewer); alice and bob are its members;
    - the group Sales (owner ``owner@``, a reviewer; member alice) holds reports: view;
    - the custom role Analyst gives reports: view, held by carol; its owner is ``reviewer``;
    - the sharing rule "Own reports": members see their organisation's reports.
    """
    from permissions.models import Resource, Role, SharingRule
    from permissions.services import groups, roles
    from permissions.services import organisations as orgs
    from permissions.services import sharing_rules as rules

    orgadmin = make_reviewer(tenant, f"orgadmin@{tenant.slug}.example")
    owner = make_reviewer(tenant, f"owner@{tenant.slug}.example")
    people = {n: UserFactory(tenant=tenant, email=f"{n}@{tenant.slug}.example") for n in ("alice", "bob", "carol")}
    for person in people.values():
        age_user(person, 200)
    with tenant_scope(tenant):
        initech = orgs.create_organisation(actor=None, tenant=tenant, name="Initech")
        for person in (people["alice"], people["bob"]):
            orgs.set_user_organisation(person, initech, actor=None)
        org_row = Resource.objects.get(pk=initech.resource_id)
        grants.grant(
            actor=None, user=orgadmin, module=org_row.module, resource=org_row, actions=["change"], reason="Initech"
        )
        sales = groups.create_group(actor=None, tenant=tenant, name="Sales")
        groups.add_member(sales, owner, actor=None, owner=True)
        groups.add_member(sales, people["alice"], actor=None)
        reports = Module.objects.get(key="reports")
        grants.grant(actor=None, group=sales, module=reports, actions=["view"], reason="Sales reads reports")
        analyst = roles.create_role(actor=None, tenant=tenant, name="Analyst")
        roles.set_role_matrix(analyst, {"reports": ["view"]}, actor=None)
        roles.change_user_role(people["carol"], analyst, actor=None)
        rule = rules.create_rule(
            rules.build_rule(
                tenant=tenant,
                name="Own reports",
                kind=SharingRule.Kind.OWN,
                module=reports,
                actions=["view"],
                reason="Customers see their own reports",
            ),
            actor=None,
        )
        analyst = Role.objects.get(pk=analyst.pk)
    for person in people.values():
        person.refresh_from_db()
    return {
        "orgadmin": orgadmin,
        "owner": owner,
        "initech": initech,
        "sales": sales,
        "analyst": analyst,
        "rule": rule,
        "reviewer": reviewer,
        **people,
    }


#: A policy of every new kind only (no role memberships, no direct grants).
NEW_KINDS = {
    "include_roles": False,
    "include_grants": False,
    "include_memberships": True,
    "include_group_grants": True,
    "include_matrices": True,
    "include_organisations": True,
    "include_sharing": True,
}
