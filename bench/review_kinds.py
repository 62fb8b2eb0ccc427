"""Access reviews over every kind of access: open a campaign of about 100,000 items spread over group
memberships, groups' grants, roles' matrices, organisation memberships, sharing rules, role memberships
and direct grants (target on PostgreSQL: ≤ 60 s), then end its first stage (history kept, every item
kept or left undecided routed to the second stage's reviewers).

``--scale small`` uses a twentieth of the people. The set-up writes rows in bulk (it is not measured);
the measured steps are the real services.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import timedelta

from bench._setup import line
from bench.reviews import REVIEWERS, _reviewers, _tenant

MODULES = 25


def _groups(tenant, people, per_user: int):
    """Groups of 40 people (each person in ``per_user`` of them), each holding ten module grants."""
    from django.contrib.auth.models import Group as AuthGroup
    from django.utils import timezone

    from permissions.models import Grant, Group, GroupMembership, Module
    from permissions.vocabulary import Action

    now = timezone.now()
    count = max(len(people) * per_user // 40, 1)
    auth = AuthGroup.objects.bulk_create([AuthGroup(name=f"bench:{tenant.slug}:{n}") for n in range(count)])
    made = Group.objects.bulk_create(
        [Group(auth_group=a, tenant=tenant, name=f"Group {n}") for n, a in enumerate(auth)], batch_size=5000
    )
    mods = list(Module.objects.filter(key__startswith="mod-").order_by("pk"))
    rows = [
        GroupMembership(tenant=tenant, group=made[(i * per_user + k) % count], user=p, is_owner=(i % 40 == 0))
        for i, p in enumerate(people)
        for k in range(per_user)
    ]
    GroupMembership.objects.bulk_create(rows, batch_size=5000, ignore_conflicts=True)
    grants = [
        Grant(
            tenant=tenant,
            group=g,
            module=mods[(n + k) % len(mods)],
            actions=Action.VIEW.bit,
            reason="Bench group grant",
            created_at=now - timedelta(days=200),
        )
        for n, g in enumerate(made)
        for k in range(10)
    ]
    Grant.objects.bulk_create(grants, batch_size=5000)
    return len(rows), len(grants)


def _roles_and_orgs(tenant, people, roles: int, orgs: int, rules: int):
    """Custom roles with a full matrix held by a quarter of the people; organisations holding everyone;
    partner sharing rules between neighbouring organisations."""
    from accounts.models import User
    from permissions.models import Module, Role, RolePermission, SharingRule
    from permissions.services import organisations
    from permissions.services import roles as role_services
    from permissions.vocabulary import Action

    mods = list(Module.objects.filter(key__startswith="mod-").order_by("pk"))
    made = [role_services.create_role(actor=None, tenant=tenant, name=f"Bench role {n}") for n in range(roles)]
    RolePermission.objects.bulk_create(
        [RolePermission(tenant=tenant, role=r, module=m, actions=Action.VIEW.bit) for r in made for m in mods]
    )
    basic = Role.objects.get(key="basic")
    for n, role in enumerate(made):
        ids = [p.pk for i, p in enumerate(people) if i % 4 == 1 and (i // 4) % roles == n]
        User.objects.filter(pk__in=ids, role=basic).update(role=role)
    companies = [organisations.create_organisation(actor=None, tenant=tenant, name=f"Org {n}") for n in range(orgs)]
    for n, org in enumerate(companies):
        User.objects.filter(pk__in=[p.pk for i, p in enumerate(people) if i % orgs == n]).update(organisation=org)
    SharingRule.objects.bulk_create(
        [
            SharingRule(
                tenant=tenant,
                name=f"Partner {n}",
                kind=SharingRule.Kind.PARTNER,
                module=mods[n % len(mods)],
                actions=Action.VIEW.bit,
                organisation=companies[n % orgs],
                target_organisation=companies[(n + 1) % orgs],
                reason="Bench partner",
            )
            for n in range(rules)
        ]
    )


def _policy(tenant, reviewers):
    from django.utils import timezone

    from reviews.services.policies import save_policy

    everything = {
        name: True
        for name in (
            "include_roles",
            "include_grants",
            "include_memberships",
            "include_group_grants",
            "include_matrices",
            "include_organisations",
            "include_sharing",
        )
    }
    later = [
        {
            "reviewer_kind": "chosen",
            "reviewers": [r.pk for r in reviewers[5:]],
            "fallback": reviewers[0].pk,
            "duration_days": 7,
        }
    ]
    return save_policy(
        actor=None,
        tenant=tenant,
        values={
            **everything,
            "name": "Bench every kind",
            "scope_mode": "all",
            "cadence": "quarterly",
            "start_date": timezone.now().date(),
            "duration_days": 7,
            "reviewer_kind": "chosen",
            "reviewers": [r.pk for r in reviewers[:5]],
            "fallback_reviewer": reviewers[0],
            "later_stages": later,
            "unanswered": "keep",
            "max_revoke_percent": 25,
            "active": True,
        },
    )


def run(args) -> None:
    from django.conf import settings
    from django.db import connection

    from accounts.scoping import tenant_scope
    from bench.reviews import _populate
    from reviews.models import ReviewCampaign, ReviewItem
    from reviews.services import campaigns, stages

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    full = args.scale == "full"
    users = 20_000 if full else 1_000
    line("database", connection.vendor)
    tenant = _tenant(f"kinds-{args.scale}")
    with tenant_scope(tenant):
        start = time.perf_counter()
        people, reviews_module = _populate(tenant, users, grants_per_user=1)
        memberships, group_grants = _groups(tenant, people, per_user=2)
        _roles_and_orgs(tenant, people, roles=40 if full else 4, orgs=200 if full else 10, rules=500 if full else 25)
        reviewers = _reviewers(tenant, reviews_module)
        if connection.vendor == "postgresql":
            # Statistics for the rows just loaded in bulk, as autovacuum would take them on a tenant that grew:
            # without them PostgreSQL plans the new tenant as empty (a nested loop over 40,000 memberships for
            # each of 10,000 group grants: 15 s per permission check, seen on 4 Dec).
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        line("set-up (bulk rows, not a target)", f"{time.perf_counter() - start:.1f} s")
        line("people, group memberships, groups' grants", f"{users:,}, {memberships:,}, {group_grants:,}")
        policy = _policy(tenant, reviewers)
        from django.urls import reverse

        reverse("reviews:mine")  # the URL map, loaded once per process (as a running scheduler has it)
        start = time.perf_counter()
        campaigns.open_due_campaigns(tenant)
        opening = time.perf_counter() - start
        campaign = ReviewCampaign.objects.get(policy=policy, state="open")
        kinds = Counter(ReviewItem.objects.filter(campaign=campaign).values_list("kind", flat=True))
        line("items by kind", ", ".join(f"{k} {n:,}" for k, n in sorted(kinds.items())))
        line(f"open a campaign over {campaign.item_count:,} items of every kind (target ≤ 60 s)", f"{opening:.2f} s")
        start = time.perf_counter()
        stages.advance_stage(campaign, actor=None, stage=1)
        line("end stage 1: history kept, every item routed to stage 2", f"{time.perf_counter() - start:.2f} s")
        assert len(reviewers) == REVIEWERS
