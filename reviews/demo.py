"""Demo reviews of a demo tenant (idempotent): a reviewer, usage history that makes some recommendations
revoke and some keep, a quarterly policy with its campaign open, and a closed pilot campaign with its report.

Demo only: the demo users' join dates and a few grants are back-dated so the evidence has a history.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from accounts.models import User
from accounts.scoping import tenant_scope
from permissions.models import Grant, Module, Resource, UsageRecord
from permissions.services import grants
from permissions.vocabulary import Action
from reviews.models import Decision, Recommendation, ReviewCampaign, ReviewItem, ReviewPolicy
from reviews.services import applying, campaigns, decisions
from reviews.services.policies import save_policy

QUARTERLY = "Quarterly access review"
PILOT = "Pilot review"


def _grant(module, user, *, days_ago, reason, resource=None, actions=(Action.VIEW,)):
    made = grants.grant(actor=None, module=module, resource=resource, user=user, actions=list(actions), reason=reason)
    Grant.objects.filter(pk=made.pk).update(created_at=timezone.now() - timedelta(days=days_ago))
    return made


def _use(user, module, *, days_ago, resource=None, action=Action.VIEW):
    UsageRecord.objects.update_or_create(
        tenant_id=user.tenant_id,
        user=user,
        target_key=f"r{resource.pk}" if resource else f"m{module.pk}",
        action=action.value,
        defaults={"module": module, "resource": resource, "last_used_at": timezone.now() - timedelta(days=days_ago)},
    )


def _history(tenant, people, mods):
    """Grants with a past and usage records: revoke for stale rare grants, keep for used common ones."""
    now = timezone.now()
    User.objects.filter(pk__in=[u.pk for u in people.values()]).update(date_joined=now - timedelta(days=400))
    # …and logged in lately: joined 400 days ago and never since would make every demo customer dormant (dormancy/).
    for n, user in enumerate(sorted(people.values(), key=lambda u: u.pk)):
        User.objects.filter(pk=user.pk).update(last_login=now - timedelta(days=1 + n % 20))
    resources = {r.external_id: r for r in Resource.objects.exclude(external_id=None)}
    slug = tenant.slug
    basic = [people.get(f"basic{n}@{slug}.example") for n in range(1, 11)]
    for n, user in enumerate(basic, 1):
        if user is None:
            continue
        _grant(mods["analytics"], user, days_ago=200, reason="Monthly dashboard review")
        if n not in (9, 10):  # used recently by most: keep; basic9 and basic10 never used it
            _use(user, mods["analytics"], days_ago=n)
    if basic[2]:
        _grant(mods["reports"], basic[2], days_ago=160, reason="Churn project 2025", resource=resources.get("R-007"))
    if basic[3]:
        _grant(mods["analytics"], basic[3], days_ago=130, reason="Campaign pilot", resource=resources.get("D-003"))
        _use(basic[3], mods["analytics"], days_ago=110, resource=resources.get("D-003"))
    if basic[4]:
        _grant(mods["reports"], basic[4], days_ago=150, reason="Temporary stock audit", resource=resources.get("R-009"))
    for n, email in enumerate([f"advanced{n}@{slug}.example" for n in range(1, 4)] + [f"reviewer@{slug}.example"], 1):
        if people.get(email):
            _use(people[email], mods["reports"], days_ago=n, action=Action.EXPORT)
    if people.get(f"admin@{slug}.example"):
        _use(people[f"admin@{slug}.example"], mods["users"], days_ago=1)


def _policy(tenant, name, *, reviewer, admin, cadence, start, active, **scope):
    return save_policy(
        actor=None,
        tenant=tenant,
        values={
            "name": name,
            "include_roles": True,
            "include_grants": True,
            "scope_mode": "all",
            "cadence": cadence,
            "start_date": start,
            "duration_days": 14,
            "reviewer_kind": "chosen",
            "reviewers": [reviewer.pk],
            "fallback_reviewer": admin,
            "unanswered": "keep",
            "max_revoke_percent": 25,
            "auto_apply": True,
            "reminders": True,
            "justify_keep_flagged": True,
            "justify_revoke": True,
            "active": active,
            **scope,
        },
    )


def _pilot(tenant, reviewer, admin):
    """A closed, applied campaign: the reviewer followed each recommendation and kept the rest."""
    start = timezone.now().date() - timedelta(days=45)
    policy = _policy(
        tenant, PILOT, reviewer=reviewer, admin=admin, cadence="once", start=start, active=False,
        include_roles=False, scope_mode="chosen", scope_modules=[Module.objects.get(key="analytics").pk],
    )  # fmt: skip
    opens = timezone.now() - timedelta(days=45)
    campaign = ReviewCampaign.objects.create(
        tenant=tenant, policy=policy, name=f"{PILOT} · {start.isoformat()}", period_start=start,
        opens_at=opens, due_at=opens + timedelta(days=14),
    )  # fmt: skip
    campaigns.open_campaign(campaign)
    for item in ReviewItem.objects.filter(campaign=campaign, reviewer=reviewer).select_related("campaign"):
        if item.recommendation == Recommendation.REVOKE:
            decisions.decide(
                item, actor=reviewer, decision=Decision.REVOKE, justification="Confirmed unused with the customer"
            )
        elif item.pk % 3:
            decisions.decide(item, actor=reviewer, decision=Decision.KEEP, justification="Still needed for their work")
    campaign.refresh_from_db()
    campaigns.close_campaign(campaign, actor=admin)
    campaign.refresh_from_db()
    applying.apply_campaign(campaign, actor=admin)


def seed(tenant) -> None:
    """Fill one demo tenant's reviews; leaves existing policies alone."""
    slug = tenant.slug
    with tenant_scope(tenant):
        if ReviewPolicy.objects.filter(name=QUARTERLY).exists():
            return
        people = {u.email: u for u in User.objects.all()}
        admin, reviewer = people.get(f"admin@{slug}.example"), people.get(f"reviewer@{slug}.example")
        if admin is None or reviewer is None:
            return
        mods = {m.key: m for m in Module.objects.all()}
        if not Grant.objects.filter(user=reviewer, module=mods["reviews"], revoked_at__isnull=True).exists():
            grants.grant(
                actor=None,
                module=mods["reviews"],
                user=reviewer,
                actions=[Action.VIEW, Action.REVIEW],
                reason="Runs the quarterly access reviews",
            )
        _history(tenant, people, mods)
        _pilot(tenant, reviewer, admin)
        _policy(
            tenant,
            QUARTERLY,
            reviewer=reviewer,
            admin=admin,
            cadence="quarterly",
            start=timezone.now().date(),
            active=True,
        )
        campaigns.open_due_campaigns(tenant)
