"""Access reviews at scale: open a campaign over 100,000 items, apply 10,000 revocations, and load the
first page of a reviewer who holds 10,000 items (targets on PostgreSQL: ≤ 60 s, ≤ 60 s, ≤ 200 ms).

``--scale small`` uses a twentieth of the data. The set-up writes rows in bulk (it is not what is
measured); the measured steps are the real services and the real page through the whole middleware.
"""

from __future__ import annotations

import statistics
import time
from datetime import timedelta

from bench._setup import line

REVIEWERS = 10


def _tenant(scale: str):
    from accounts import services
    from accounts.models import Tenant

    slug = f"bench-reviews-{scale}-{time.time_ns() % 10**10}"
    tenant = services.create_tenant(name=f"Bench reviews {scale}", slug=slug)
    Tenant.objects.filter(pk=tenant.pk).update(mfa_policy=Tenant.MfaPolicy.PRIVILEGED)
    tenant.refresh_from_db()
    return tenant


def _populate(tenant, users: int, grants_per_user: int):
    """Users (a quarter Advanced), custom modules, old module grants, and usage for a part of them."""
    from django.utils import timezone

    from accounts.models import User
    from permissions.models import Grant, Module, Role, UsageRecord
    from permissions.services import modules
    from permissions.vocabulary import Action

    now = timezone.now()
    roles = {r.key: r for r in Role.objects.all()}
    mods = [modules.create_module(actor=None, tenant=tenant, name=f"Module {n}", key=f"mod-{n}") for n in range(25)]
    people = User.objects.bulk_create(
        [
            User(
                tenant=tenant,
                email=f"u{n}@{tenant.slug}.example",
                role=roles["advanced" if n % 4 == 0 else "basic"],
                password="!",
                date_joined=now - timedelta(days=400),
            )
            for n in range(users)
        ],
        batch_size=5000,
    )
    view = Action.VIEW.bit
    rows, usage = [], []
    for i, person in enumerate(people):
        for g in range(grants_per_user):
            module = mods[(i + g * 7) % len(mods)]
            rows.append(
                Grant(
                    tenant=tenant,
                    user=person,
                    module=module,
                    actions=view,
                    reason="Bench grant",
                    created_at=now - timedelta(days=200),
                )
            )
            if (i + g) % 3 == 0:
                usage.append(
                    UsageRecord(
                        tenant=tenant,
                        user=person,
                        module=module,
                        target_key=f"m{module.pk}",
                        action="view",
                        last_used_at=now - timedelta(days=(i + g) % 150),
                    )
                )
    Grant.objects.bulk_create(rows, batch_size=5000)
    UsageRecord.objects.bulk_create(usage, batch_size=5000, ignore_conflicts=True)
    return people, Module.objects.get(key="reviews")


def _reviewers(tenant, reviews_module):
    from accounts import services
    from permissions.models import Role
    from permissions.services import grants
    from permissions.vocabulary import Action

    advanced = Role.objects.get(key="advanced")
    out = []
    for n in range(REVIEWERS):
        user = services.create_user(
            tenant=tenant, email=f"reviewer{n}@{tenant.slug}.example", password="bench password 123", role=advanced
        )
        grants.grant(actor=None, module=reviews_module, user=user, actions=[Action.VIEW, Action.REVIEW], reason="Bench")
        out.append(user)
    return out


def _page_load(reviewer) -> tuple[float, float, int]:
    """(first load ms, median of 20 further loads ms, items of the reviewer) of "My reviews", via the whole stack."""
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client

    from reviews.models import ReviewItem
    from tests.conftest import login

    call_command("collectstatic", interactive=False, verbosity=0)  # the page's static files, as deployed
    if "testserver" not in settings.ALLOWED_HOSTS:
        settings.ALLOWED_HOSTS.append("testserver")
    client = login(Client(), reviewer, password="bench password 123")
    start = time.perf_counter()
    response = client.get("/reviews/mine/")
    first = (time.perf_counter() - start) * 1000
    assert response.status_code == 200, response.status_code
    samples = []
    for _ in range(20):
        start = time.perf_counter()
        client.get("/reviews/mine/")
        samples.append((time.perf_counter() - start) * 1000)
    return first, statistics.median(samples), ReviewItem.objects.filter(reviewer=reviewer).count()


def run(args) -> None:
    from django.conf import settings
    from django.db import connection
    from django.utils import timezone

    from accounts.scoping import tenant_scope
    from reviews.models import Decision, ReviewCampaign, ReviewItem
    from reviews.services import applying, campaigns
    from reviews.services.policies import save_policy

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"  # notices are counted, not printed
    full = args.scale == "full"
    users = 20_000 if full else 1_000
    revocations = 10_000 if full else 500
    line("database", connection.vendor)
    tenant = _tenant(args.scale)
    with tenant_scope(tenant):
        start = time.perf_counter()
        people, reviews_module = _populate(tenant, users, grants_per_user=5)
        reviewers = _reviewers(tenant, reviews_module)
        line("set-up (bulk rows, not a target)", f"{time.perf_counter() - start:.1f} s")
        admin = reviewers[0]
        policy = save_policy(
            actor=None,
            tenant=tenant,
            values={
                "name": "Bench quarterly",
                "include_roles": True,
                "include_grants": True,
                "scope_mode": "all",
                "cadence": "quarterly",
                "start_date": timezone.now().date(),
                "duration_days": 14,
                "reviewer_kind": "chosen",
                "reviewers": [r.pk for r in reviewers],
                "fallback_reviewer": admin,
                "unanswered": "keep",
                "max_revoke_percent": 100,
                "auto_apply": True,
                "reminders": True,
                "justify_keep_flagged": True,
                "justify_revoke": True,
                "active": True,
            },
        )
        start = time.perf_counter()
        opened = campaigns.open_due_campaigns(tenant)
        opening = time.perf_counter() - start
        campaign = ReviewCampaign.objects.get(policy=policy, state="open")
        line("campaigns opened", str(opened))
        line(f"open a campaign over {campaign.item_count:,} items (target ≤ 60 s)", f"{opening:.2f} s")

        first, warm, held = _page_load(reviewers[1])
        line(f"My reviews, first page, reviewer with {held:,} items (≤ 200 ms)", f"{first:.0f} ms")
        line("My reviews, median of 20 further loads", f"{warm:.0f} ms")

        ids = list(
            ReviewItem.objects.filter(campaign=campaign, kind="grant").order_by("id").values_list("pk", flat=True)
        )[:revocations]
        ReviewItem.objects.filter(pk__in=ids).update(
            decision=Decision.REVOKE, justification="bench", decided_by=reviewers[1], decided_at=timezone.now()
        )
        start = time.perf_counter()
        campaigns.close_campaign(campaign, actor=None)
        line("close the campaign (freeze, unanswered → keep, checkpoint)", f"{time.perf_counter() - start:.2f} s")
        campaign.refresh_from_db()
        start = time.perf_counter()
        changed = applying.apply_campaign(campaign)
        applying_s = time.perf_counter() - start
        line(f"apply {changed:,} revocations, each audited (target ≤ 60 s)", f"{applying_s:.2f} s")
        start = time.perf_counter()
        again = applying.apply_campaign(campaign)
        line("apply again (retry: nothing left to do)", f"{again} changes, {time.perf_counter() - start:.2f} s")
