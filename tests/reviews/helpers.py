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
