"""The reviewer's workspace ("My reviews"): the campaign in view with its header and progress, the reviewer's
items of it, and what a bulk decision would decide and what it would skip (docs/reviews.md).

Every figure is one aggregate query whatever the number of items; a reviewer only ever reaches their own items
of the campaign's current stage (``my_items``), so any other id is absent, as another tenant's is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django.db.models import Count, Exists, F, OuterRef, Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from api.input import as_ascii_id
from reviews.models import Decision, Recommendation, ReviewCampaign, ReviewItem
from reviews.services import decisions
from reviews.sod import own_access_q

#: The items listed by a bulk confirmation; beyond, it says how many more it decides (counted, never guessed).
LISTED = 500
DUE_SOON_DAYS = 2


def my_items(user):
    """The reviewer's items at their campaign's current stage (what an earlier stage settled is not asked)."""
    return ReviewItem.objects.filter(reviewer=user, stage=F("campaign__stage"))


def open_campaigns(user) -> list[ReviewCampaign]:
    """The open campaigns in which ``user`` has items to review now, the soonest due first (one query)."""
    mine = ReviewItem.objects.filter(campaign=OuterRef("pk"), reviewer=user, stage=OuterRef("stage"))
    return list(
        ReviewCampaign.objects.filter(state=ReviewCampaign.State.OPEN).filter(Exists(mine)).order_by("due_at", "id")
    )


def chosen(campaigns: list[ReviewCampaign], value) -> ReviewCampaign | None:
    """The campaign asked for by ``value`` (an id) among ``campaigns``, else the first one."""
    wanted = as_ascii_id(str(value or ""))
    for campaign in campaigns:
        if wanted is not None and campaign.pk == wanted:
            return campaign
    return campaigns[0] if campaigns else None


def header(campaign: ReviewCampaign, user) -> dict:
    """Name, due time (overdue, due soon), stage, and the reviewer's progress in it (one query)."""
    counts = (
        my_items(user)
        .filter(campaign=campaign)
        .aggregate(total=Count("pk"), decided=Count("pk", filter=~Q(decision=Decision.PENDING)))
    )
    due = campaign.current_stage_due
    now = timezone.now()
    total, decided = counts["total"], counts["decided"]
    return {
        "campaign": campaign,
        "due": due,
        "overdue": due <= now,
        "due_soon": now < due <= now + timedelta(days=DUE_SOON_DAYS),
        "days_left": max((due - now).days, 0),
        "total": total,
        "decided": decided,
        "undecided": total - decided,
        "percent": round(100 * decided / total) if total else 0,
    }


def selection(request, campaign_id, filters, *, all_matching: bool, ids: list[str]):
    """The items a bulk decision is about: all the reviewer's items of the campaign matching ``filters``, or the
    chosen ``ids``. A campaign that is not open, or an id that is not the reviewer's item of that campaign at its
    current stage (another campaign's, another reviewer's, another tenant's), is a 404: nothing is skipped
    silently."""
    campaign = (
        ReviewCampaign.objects.select_related("policy")
        .filter(state=ReviewCampaign.State.OPEN, pk=_int(campaign_id))
        .first()
    )
    if campaign is None:
        raise Http404
    items = my_items(request.user).filter(campaign=campaign)
    if all_matching:
        return campaign, filters.apply(items)
    wanted = {_int(value) for value in ids}
    if None in wanted:
        raise Http404
    chosen_items = items.filter(pk__in=wanted)
    if chosen_items.count() != len(wanted):
        raise Http404
    return campaign, chosen_items


def _int(value) -> int | None:
    return as_ascii_id(str(value or ""))


@dataclass
class Preview:
    """What a bulk decision will do: each item it decides (up to ``LISTED``) with the decision it gets, and how
    many it skips, and why."""

    count: int
    rows: list = field(default_factory=list)
    by_decision: list = field(default_factory=list)  # (label, count)
    skipped: list = field(default_factory=list)  # (reason, count)
    more: int = 0
    needs_justification: bool = False


def preview(campaign, items, *, actor, accept: bool, decision: str | None, justification: str) -> Preview:
    """The confirmation's content, from the same selection ``decisions.bulk_decide`` will decide."""
    from reviews import presenting

    decided = decisions.bulk_selection(items, actor=actor, accept_recommendations=accept)
    own = own_access_q(actor) & ~Q(routed="self")
    figures = items.aggregate(
        total=Count("pk"),
        own=Count("pk", filter=own),
        no_recommendation=Count("pk", filter=~own & Q(decision=Decision.PENDING, recommendation=Recommendation.NONE)),
        already=Count("pk", filter=~own & ~Q(decision=Decision.PENDING)),
        keep=Count("pk", filter=~own & Q(decision=Decision.PENDING, recommendation=Recommendation.KEEP)),
        revoke=Count("pk", filter=~own & Q(decision=Decision.PENDING, recommendation=Recommendation.REVOKE)),
        flagged=Count("pk", filter=~own & Q(flagged=True)),
    )
    if accept:
        count = figures["keep"] + figures["revoke"]
        by_decision = [(Decision.KEEP.label, figures["keep"]), (Decision.REVOKE.label, figures["revoke"])]
        skipped = [
            (_no_recommendation(), figures["no_recommendation"]),
            (_already_decided(), figures["already"]),
        ]
    else:
        count = figures["total"] - figures["own"]
        by_decision = [(Decision(decision).label, count)]
        skipped = []
    skipped.append((_own_access(), figures["own"]))
    rows = list(decided.select_related("user", "campaign").order_by("id")[:LISTED])
    evidence(presenting.decorate(rows))
    for row in rows:
        row.will_be = Decision(row.recommendation if accept else decision).label
    needs = False
    if not accept and not (justification or "").strip() and count:
        policy = campaign.policy
        if decision == Decision.REVOKE:
            needs = policy.justify_revoke
        elif decision == Decision.KEEP:
            needs = policy.justify_keep_flagged and figures["flagged"] > 0
    return Preview(
        count=count,
        rows=rows,
        by_decision=[(label, n) for label, n in by_decision if n],
        skipped=[(reason, n) for reason, n in skipped if n],
        more=max(count - len(rows), 0),
        needs_justification=needs,
    )


def _no_recommendation():
    return _("undecided items without a recommendation (decide them one by one)")


def _already_decided():
    return _("items you already decided (accepting recommendations never changes a decision)")


def _own_access():
    return _("items that are your own access (nobody reviews their own access)")


def evidence(items) -> list:
    """What the workspace shows of each item's frozen evidence, for a quick decision (no query): last use and
    for how long unused, the share of peers who hold it, the people it reaches, a separation-of-duties conflict,
    and why the access exists."""
    from reviews.presenting import BASIS

    for item in items:
        data, snap = item.evidence or {}, item.snapshot or {}
        percent = data.get("peer_percent")
        item.peer_percent = percent
        item.peer_basis = BASIS.get(data.get("peer_basis"), lambda: _("all users"))() if percent is not None else ""
        item.unlike_peers = bool(data.get("rare")) if "rare" in data else (percent is not None and percent < 30)
        item.holders = data.get("holders")
        item.idle_days = data.get("idle_days")
        item.is_unused = bool(data.get("unused"))
        item.sod_rules = ", ".join(data.get("sod") or [])
        item.why = snap.get("reason") or ""
        item.granted_by = snap.get("granted_by") or ""
        item.grant_age = data.get("grant_age_days")
    return items
