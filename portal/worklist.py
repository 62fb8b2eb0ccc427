"""What waits for the signed-in user: the counts on the navigation and the panels of the home page.

Each figure is one aggregate query whatever the size of the tenant, computed at most once per request (the
menu and the home page share it), and only for a user whom the engine lets see the screen it links to: the
same predicate decides the menu entry, the count and the panel.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable

from django.db.models import Count, Min, Q
from django.utils import timezone

from permissions import engine
from permissions.vocabulary import Action, SystemModule

EXPIRING_DAYS = 7  # "expiring this week" for administrators
MY_EXPIRING_DAYS = 30  # a customer is told a month ahead
RECENT_EVENTS = 5
LIST_LENGTH = 5

_CACHE_ATTR = "_portal_worklist"


def once(key: str) -> Callable:
    """Memoise ``fn(request)`` on the request under ``key`` (the menu and the home ask the same figure)."""

    def decorate(fn: Callable) -> Callable:
        def wrapper(request):
            cache = request.__dict__.setdefault(_CACHE_ATTR, {})
            if key not in cache:
                cache[key] = fn(request)
            return cache[key]

        wrapper.__name__ = fn.__name__
        wrapper.__doc__ = fn.__doc__
        return wrapper

    return decorate


# Who may see what (the menu entries ask the same functions).


def sees_approvals(user) -> bool:
    return engine.can(user, Action.VIEW, SystemModule.GRANTS)


def sees_campaigns(user) -> bool:
    return engine.can(user, Action.VIEW, SystemModule.REVIEWS)


def is_reviewer(user) -> bool:
    return engine.can(user, Action.REVIEW, SystemModule.REVIEWS)


def sees_audit(user) -> bool:
    return engine.can(user, Action.VIEW, SystemModule.AUDIT)


def decides_requests(user) -> bool:
    from accessrequests.rules import may_approve_anything

    return bool(getattr(user, "tenant_id", None)) and may_approve_anything(user)


# The counts on the navigation.


@once("approvals")
def pending_approvals(request) -> int:
    """Four-eyes changes waiting for a second administrator."""
    from permissions.models import PendingChange

    return PendingChange.objects.filter(status=PendingChange.Status.PENDING).count()


@once("requests")
def requests_to_decide(request) -> int:
    """Access requests the user may decide now (never their own)."""
    from accessrequests import rules
    from accessrequests.models import AccessRequest

    return rules.decidable(request.user, AccessRequest.objects.all()).count()


@once("my_reviews")
def my_open_reviews(request) -> list[dict]:
    """The user's undecided items of open campaigns, one row per campaign with its due date (soonest first)."""
    from reviews.models import Decision, ReviewCampaign, ReviewItem

    rows = (
        ReviewItem.objects.filter(
            reviewer=request.user, decision=Decision.PENDING, campaign__state=ReviewCampaign.State.OPEN
        )
        .values("campaign_id", "campaign__name", "campaign__due_at")
        .annotate(open=Count("id"), flagged=Count("id", filter=Q(flagged=True)))
        .order_by("campaign__due_at", "campaign_id")
    )
    now = timezone.now()
    return [
        {
            "campaign_id": row["campaign_id"],
            "name": row["campaign__name"],
            "due_at": row["campaign__due_at"],
            "overdue": row["campaign__due_at"] < now,
            "open": row["open"],
            "flagged": row["flagged"],
        }
        for row in rows
    ]


def my_open_review_count(request) -> int:
    return sum(row["open"] for row in my_open_reviews(request))


# The administrators' panels.


@once("campaigns")
def campaigns_due(request) -> dict:
    """Open campaigns: how many, how many past their due date, the next due date, and the flagged items
    still undecided (two queries)."""
    from reviews.models import Decision, ReviewCampaign, ReviewItem

    now = timezone.now()
    open_campaigns = ReviewCampaign.objects.filter(state=ReviewCampaign.State.OPEN)
    figures = open_campaigns.aggregate(
        open=Count("id"),
        overdue=Count("id", filter=Q(due_at__lt=now)),
        next_due=Min("due_at", filter=Q(due_at__gte=now)),
    )
    figures["flagged"] = ReviewItem.objects.filter(
        campaign__state=ReviewCampaign.State.OPEN, flagged=True, decision=Decision.PENDING
    ).count()
    return figures


@once("expiring")
def grants_expiring(request) -> dict:
    """Live grants ending within a week: how many, and the first few (user or group, module, resource)."""
    from permissions.models import Grant

    now = timezone.now()
    rows = Grant.objects.filter(
        revoked_at__isnull=True, expires_at__gt=now, expires_at__lte=now + datetime.timedelta(days=EXPIRING_DAYS)
    )
    first = list(rows.select_related("user", "group", "module", "resource").order_by("expires_at", "id")[:LIST_LENGTH])
    return {"count": rows.count(), "first": first}


def recent_events(request) -> list:
    """The tenant's latest audit events, with their actor and target labels (a fixed number of queries)."""
    from audit import personal
    from audit.models import AuditEvent

    rows = AuditEvent.objects.order_by("-seq").defer("leaf_hash", "chain_hash")[:RECENT_EVENTS]
    return personal.attach(rows)


# The customer's panels.


def my_requests(request) -> dict:
    """The user's own requests: how many are pending, and the latest few."""
    from accessrequests.models import AccessRequest

    rows = AccessRequest.objects.filter(requester=request.user)
    latest = list(rows.select_related("module", "resource").order_by("-created_at", "-id")[:LIST_LENGTH])
    return {"pending": rows.filter(status=AccessRequest.Status.PENDING).count(), "latest": latest}


def my_expiring(request) -> list:
    """The user's own live grants that end within a month, soonest first."""
    from permissions.models import Grant

    now = timezone.now()
    rows = Grant.objects.filter(
        user=request.user,
        revoked_at__isnull=True,
        expires_at__gt=now,
        expires_at__lte=now + datetime.timedelta(days=MY_EXPIRING_DAYS),
    )
    return list(rows.select_related("module", "resource").order_by("expires_at", "id")[:LIST_LENGTH])
