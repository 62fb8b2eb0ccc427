"""Review screens: policies, campaign dashboard and report, CSV export, the reviewer's "My reviews".

Views parse, call a service, render. Reviewers only ever see items assigned to them: their queryset is
``ReviewItem.objects.filter(reviewer=request.user)``, so any other id is a 404 (as another tenant's is).
"""

from __future__ import annotations

import csv
from datetime import datetime, time

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponseNotAllowed, QueryDict, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.lookups import get_in_tenant_or_404
from accounts.models import User
from permissions import engine
from permissions.models import Role
from permissions.views import requires
from permissions.vocabulary import Action, SystemModule
from portal import confirmation
from reviews import presenting, workspace
from reviews.forms import DelegationForm, ItemFilter, PolicyForm
from reviews.models import ApplyResult, Decision, ReviewCampaign, ReviewDelegation, ReviewItem, ReviewPolicy
from reviews.services import applying, campaigns, decisions, delegations, policies, stages
from reviews.services.errors import ReviewRefused

PAGE = 50
INLINE_APPLY = 500  # at most this many changes applied inside the closing request
REPORT_PAGE = 200
can_view = requires(SystemModule.REVIEWS, Action.VIEW)
can_create = requires(SystemModule.REVIEWS, Action.CREATE)
can_change = requires(SystemModule.REVIEWS, Action.CHANGE)
can_review = requires(SystemModule.REVIEWS, Action.REVIEW)


def _buttons(user) -> dict:
    """What the template may offer, decided here (templates never decide permissions)."""
    return {
        "may_create": engine.can(user, Action.CREATE, SystemModule.REVIEWS),
        "may_change": engine.can(user, Action.CHANGE, SystemModule.REVIEWS),
    }


@require_GET
@can_view
def campaign_list(request):
    """Every campaign of the tenant, newest period first."""
    rows = ReviewCampaign.objects.select_related("policy").order_by("-period_start", "-id")
    page = Paginator(rows, PAGE).get_page(request.GET.get("page"))
    return render(request, "reviews/campaign_list.html", {"page": page, **_buttons(request.user)})


@require_GET
@can_view
def policy_list(request):
    """The tenant's review policies."""
    rows = ReviewPolicy.objects.select_related("fallback_reviewer").order_by("name")
    return render(request, "reviews/policy_list.html", {"policies": rows, **_buttons(request.user)})


def _policy_form(request, policy):
    form = PolicyForm(request.POST or None, instance=policy)
    if request.method == "POST" and form.is_valid():
        try:
            saved = policies.save_policy(actor=request.user, tenant=request.tenant, values=form.values(), policy=policy)
        except (ReviewRefused, ValidationError) as refusal:
            form.add_error(None, "; ".join(getattr(refusal, "messages", [str(refusal)])))
        else:
            messages.success(request, _("Policy %(name)s saved.") % {"name": saved.name})
            return redirect("reviews:policies")
    return render(request, "reviews/policy_form.html", {"form": form, "policy": policy})


@require_http_methods(["GET", "POST"])
@can_create
def policy_new(request):
    """A new review policy."""
    return _policy_form(request, None)


@require_http_methods(["GET", "POST"])
@can_change
def policy_edit(request, policy_id: int):
    """Change a review policy (future campaigns follow it; open ones keep their snapshot)."""
    policy = get_in_tenant_or_404(ReviewPolicy.objects.all(), request, pk=policy_id)
    return _policy_form(request, policy)


def _campaign(request, campaign_id):
    return get_in_tenant_or_404(ReviewCampaign.objects.select_related("policy"), request, pk=campaign_id)


def _bars(by_decision: dict) -> list[dict]:
    """Server-rendered SVG bars of the decisions (no script, no inline style: CSP)."""
    top = max(by_decision.values() or [0]) or 1
    bars = []
    for n, (value, label) in enumerate(Decision.choices):
        count = by_decision.get(value, 0)
        bars.append({"label": label, "count": count, "width": round(300 * count / top), "y": n * 28, "ty": n * 28 + 15})
    return bars


def _labelled(counts: dict, choices) -> list[tuple[str, int]]:
    """(translated label, count) of each value present, in the choices' order (never the raw key)."""
    return [(label, counts[value]) for value, label in choices.choices if value in counts]


@require_GET
@can_view
def campaign_detail(request, campaign_id: int):
    """The campaign dashboard: overall and per-reviewer progress, reviewers behind, a chart of decisions."""
    campaign = _campaign(request, campaign_id)
    figures = campaigns.progress(campaign)
    now = timezone.now()
    late = campaign.is_open and now >= campaign.final_reminder_point
    for row in figures["reviewers"]:
        row["behind"] = late and row["done"] < row["total"]
    return render(
        request,
        "reviews/campaign_detail.html",
        {
            "campaign": campaign,
            "figures": figures,
            "bars": _bars(figures["by_decision"]),
            "failed": figures["applied"].get(ApplyResult.FAILED, 0),
            "may_close": campaign.is_open,
            "may_apply": campaign.state == ReviewCampaign.State.CLOSED,
            "may_cancel": campaign.state in (ReviewCampaign.State.SCHEDULED, ReviewCampaign.State.OPEN),
            **_buttons(request.user),
        },
    )


@can_change
def campaign_close(request, campaign_id: int):
    """End the current stage now (the next stage begins); on the last stage, close the campaign (and apply its
    decisions when the policy says so) after a confirmation page that says what will happen: how many items are
    undecided and what they become, and whether the decisions apply at once. A POST without the confirmation
    shows that page and changes nothing."""
    campaign = _campaign(request, campaign_id)
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])  # after the lookup: a foreign id is a 404 first
    if campaign.is_open and not campaign.is_last_stage:
        if request.method == "POST" and stages.advance_stage(campaign, actor=request.user, stage=campaign.stage):
            messages.success(request, _("Stage %(n)s ended: the next stage has begun.") % {"n": campaign.stage})
        return redirect("reviews:campaign", campaign_id=campaign.pk)
    if request.method == "GET" or request.POST.get("confirm") != "1" or not campaign.is_open:
        if not campaign.is_open:
            return redirect("reviews:campaign", campaign_id=campaign.pk)
        figures = campaigns.progress(campaign)
        undecided = figures["total"] - figures["decided"]
        context = {"campaign": campaign, "figures": figures, "undecided": undecided}
        return render(request, "reviews/close_confirm.html", context)
    if campaigns.close_campaign(campaign, actor=request.user):
        messages.success(request, _("Campaign closed."))
        campaign.refresh_from_db()
        waiting = ReviewItem.objects.filter(campaign=campaign, apply_result=ApplyResult.PENDING).count()
        if campaign.policy.auto_apply and waiting <= INLINE_APPLY:
            applying.apply_campaign(campaign, actor=request.user)
        elif campaign.policy.auto_apply:
            # A large campaign is applied by the scheduler (every minute), not inside this request.
            messages.info(request, _("%(count)s changes will be applied within a minute.") % {"count": waiting})
    return redirect("reviews:campaign", campaign_id=campaign.pk)


@can_change
def campaign_apply(request, campaign_id: int):
    """Apply a closed campaign's decisions (again: applied items are skipped; failed ones are retried)."""
    campaign = _campaign(request, campaign_id)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])  # after the lookup: a foreign id is a 404 first
    applying.retry_failed(campaign, actor=request.user)
    campaign.refresh_from_db()
    changed = applying.apply_campaign(campaign, actor=request.user)
    messages.success(request, _("%(count)s changes applied.") % {"count": changed})
    return redirect("reviews:campaign", campaign_id=campaign.pk)


@can_change
def campaign_cancel(request, campaign_id: int):
    """Cancel a scheduled or open campaign, with a reason."""
    campaign = _campaign(request, campaign_id)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])  # after the lookup: a foreign id is a 404 first
    if not confirmation.confirmed(request):
        return confirmation.ask(
            request,
            title=_("Cancel the campaign %(name)s") % {"name": campaign.name},
            consequences=[
                _("The campaign stops now: its reviewers are no longer asked, and no decision of it is applied."),
                _("Access stays as it is; a cancelled campaign cannot be reopened."),
            ],
            button=_("Cancel the campaign"),
            cancel=reverse("reviews:campaign", kwargs={"campaign_id": campaign.pk}),
        )
    try:
        campaigns.cancel_campaign(campaign, actor=request.user, reason=request.POST.get("reason", ""))
    except ReviewRefused as refusal:
        messages.error(request, str(refusal))
    return redirect("reviews:campaign", campaign_id=campaign.pk)


@require_GET
@can_view
def campaign_report(request, campaign_id: int):
    """Figures and every decision: who, when, why, and what was applied."""
    campaign = _campaign(request, campaign_id)
    items = ReviewItem.objects.filter(campaign=campaign).select_related("user", "reviewer", "decided_by")
    page = Paginator(items.order_by("id"), REPORT_PAGE).get_page(request.GET.get("page"))
    rows = presenting.decorate(list(page.object_list))
    figures = campaigns.progress(campaign)
    return render(
        request,
        "reviews/campaign_report.html",
        {
            "campaign": campaign,
            "figures": figures,
            "decisions": _labelled(figures["by_decision"], Decision),
            "results": _labelled(figures["applied"], ApplyResult),
            "page": page,
            "items": rows,
        },
    )


class _Echo:
    def write(self, value):
        return value


def _cell(value) -> str:
    """A CSV cell that a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@require_GET
@can_view
def campaign_export(request, campaign_id: int):
    """Every item and its decision as CSV (streamed)."""
    campaign = _campaign(request, campaign_id)
    items = ReviewItem.objects.filter(campaign=campaign).select_related("user", "reviewer", "decided_by")
    header = [
        "item",
        "user",
        "access",
        "flagged",
        "recommendation",
        "reasons",
        "reviewer",
        "decision",
        "justification",
        "decided_by",
        "decided_at",
        "bulk",
        "final_decision",
        "final_source",
        "apply_result",
        "applied_at",
        "apply_detail",
    ]

    names = presenting.Names()

    def rows():
        writer = csv.writer(_Echo())
        yield writer.writerow(header)
        for item in items.order_by("id").iterator(chunk_size=2000):
            yield writer.writerow(
                [
                    _cell(v)
                    for v in [
                        item.pk,
                        item.user.email if item.user_id else "",
                        presenting.access_text(item, names),
                        item.flagged,
                        item.recommendation,
                        " ".join(presenting.reason_text(c, p) for c, p in item.reasons),
                        item.reviewer.email,
                        item.decision,
                        item.justification,
                        item.decided_by.email if item.decided_by_id else "",
                        item.decided_at.isoformat() if item.decided_at else "",
                        item.decided_in_bulk,
                        item.final_decision,
                        item.final_source,
                        item.apply_result,
                        item.applied_at.isoformat() if item.applied_at else "",
                        item.apply_detail,
                    ]
                ]
            )

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="review-{campaign.pk}.csv"'
    return response


def _my_items(request):
    """The reviewer's items at their campaign's current stage (what an earlier stage settled is not asked)."""
    return workspace.my_items(request.user)


def _reduce_roles():
    return [r for r in Role.objects.all() if not (r.builtin and r.key == "administrator")]


def _mine_url(campaign_id, filters: ItemFilter | None = None) -> str:
    """ "My reviews" on a campaign, with the filter the reviewer was using."""
    query = QueryDict(mutable=True)
    if campaign_id:
        query["campaign"] = str(campaign_id)
    for key, value in filters.params() if filters is not None else []:
        query[key] = value
    return reverse("reviews:mine") + ("?" + query.urlencode() if query else "")


@require_GET
@can_review
def my_reviews(request):
    """The reviewer's workspace: one open campaign at a time (its header, due date and the reviewer's progress),
    a filter bar, the items with their evidence, row selection, bulk and single decisions."""
    campaigns_open = workspace.open_campaigns(request.user)
    campaign = workspace.chosen(campaigns_open, request.GET.get("campaign"))
    filters = ItemFilter(request.GET)
    items = ReviewItem.objects.none()
    if campaign is not None:
        items = filters.apply(_my_items(request).filter(campaign=campaign)).select_related("user", "campaign")
    page = Paginator(items.order_by("id"), PAGE).get_page(request.GET.get("page"))
    rows = workspace.evidence(presenting.decorate(list(page.object_list)))
    query = _mine_url(campaign.pk if campaign else None, filters).partition("?")[2]  # for the page links
    return render(
        request,
        "reviews/my_reviews.html",
        {
            "campaigns": [{"pk": c.pk, "name": c.name, "current": c == campaign} for c in campaigns_open],
            "head": workspace.header(campaign, request.user) if campaign else None,
            "filters": filters,
            "filtered": bool(filters.params()),
            "page": page,
            "items": rows,
            "query": query,
            "here": request.get_full_path(),
            "roles": _reduce_roles(),
            "delegating": ReviewDelegation.objects.filter(
                delegator=request.user, ended_at__isnull=True, ends_at__gt=timezone.now()
            ).select_related("delegate"),
        },
    )


def _row(request, item, error=""):
    item = ReviewItem.objects.select_related("user", "campaign").get(pk=item.pk)
    workspace.evidence(presenting.decorate([item]))
    head = workspace.header(item.campaign, request.user)  # the header's progress, refreshed by the script
    context = {
        "item": item,
        "error": error,
        "roles": _reduce_roles(),
        "fragment": True,
        "progress": head,
        "progress_text": _("%(decided)s of %(total)s decided") % head,
    }
    return render(request, "reviews/_item_row.html", context)


@can_review
def decide(request, item_id: int):
    """Keep, revoke or reduce one item; answers the row alone to a script, a redirect otherwise."""
    item = get_in_tenant_or_404(_my_items(request), request, pk=item_id)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])  # after the lookup: a foreign id is a 404 first
    decision = request.POST.get("decision", "")
    expires = parse_date(request.POST.get("reduce_expires_at", "") or "")
    role_id = request.POST.get("reduce_role") or None
    error = ""
    try:
        role = get_in_tenant_or_404(Role.objects.all(), request, pk=role_id) if role_id else None
        decisions.decide(
            item,
            actor=request.user,
            decision=decision if decision in Decision.values else Decision.PENDING,
            justification=request.POST.get("justification", ""),
            reduce_expires_at=(timezone.make_aware(datetime.combine(expires, time.min)) if expires else None),
            reduce_role=role,
        )
    except ReviewRefused as refusal:
        error = str(refusal)
    if request.headers.get("X-Requested-With") == "fetch":
        response = _row(request, item, error)
        if error:
            response.status_code = 422
        return response
    if error:
        messages.error(request, error)
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        back = ""
    return redirect(back or "reviews:mine")


BULK_ACTIONS = {"accept": None, "keep": Decision.KEEP, "revoke": Decision.REVOKE}


@require_POST
@can_review
def bulk(request):
    """A bulk decision on the chosen rows or on every item matching the filter: first a confirmation listing
    what it decides and what it skips, then (with ``confirm``) the change, through ``decisions.bulk_decide``."""
    filters = ItemFilter(request.POST)
    all_matching = request.POST.get("scope") == "all"
    ids = request.POST.getlist("item")
    campaign, items = workspace.selection(
        request, request.POST.get("campaign"), filters, all_matching=all_matching, ids=ids
    )
    back = _mine_url(campaign.pk, filters)
    action = request.POST.get("bulk_action", "")
    if action not in BULK_ACTIONS:
        messages.error(request, _("Choose what to do with the selection."))
        return redirect(back)
    if not all_matching and not ids:
        messages.error(request, _("Select items first, or choose all the items matching the filter."))
        return redirect(back)
    decision = BULK_ACTIONS[action]
    justification = request.POST.get("justification", "")
    if "confirm" not in request.POST:
        shown = workspace.preview(
            campaign, items, actor=request.user, accept=decision is None, decision=decision, justification=justification
        )
        return render(
            request,
            "reviews/bulk_confirm.html",
            {
                "campaign": campaign,
                "preview": shown,
                "action": action,
                "all_matching": all_matching,
                "ids": ids,
                "filters": filters,
                "justification": justification,
                "back": back,
            },
        )
    try:
        done = decisions.bulk_decide(
            items,
            actor=request.user,
            decision=decision,
            justification=justification,
            expected=int(request.POST.get("expected", "-1") or "-1"),
        )
    except (ReviewRefused, ValueError) as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(
            request,
            ngettext("%(count)s item decided.", "%(count)s items decided.", done) % {"count": done},
        )
    return redirect(back)


@can_review
def reassign(request, item_id: int):
    """Hand one of my items to another reviewer."""
    item = get_in_tenant_or_404(_my_items(request), request, pk=item_id)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])  # after the lookup: a foreign id is a 404 first
    to = User.objects.filter(email__iexact=request.POST.get("to", "").strip()).first()
    try:
        decisions.reassign(item, actor=request.user, to=to, reason=request.POST.get("reason", ""))
    except ReviewRefused as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(request, _("Item reassigned."))
    return redirect("reviews:mine")


@require_http_methods(["GET", "POST"])
@can_review
def delegation_list(request):
    """My delegations, and a form to hand my reviews to someone else for a period."""
    form = DelegationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        to = User.objects.filter(email__iexact=data["to"].strip()).first()
        try:
            delegations.delegate(
                actor=request.user,
                to=to,
                starts_at=timezone.make_aware(datetime.combine(data["starts"], time.min)),
                ends_at=timezone.make_aware(datetime.combine(data["ends"], time.min)),
                reason=data["reason"],
            )
        except ReviewRefused as refusal:
            form.add_error(None, str(refusal))
        else:
            messages.success(request, _("Your reviews are delegated."))
            return redirect("reviews:delegations")
    rows = ReviewDelegation.objects.filter(delegator=request.user).select_related("delegate")
    return render(request, "reviews/delegations.html", {"form": form, "delegations": rows, "now": timezone.now()})


@can_review
def delegation_end(request, delegation_id: int):
    """End one of my delegations now."""
    delegation = get_in_tenant_or_404(
        ReviewDelegation.objects.filter(delegator=request.user), request, pk=delegation_id
    )
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])  # after the lookup: a foreign id is a 404 first
    if not confirmation.confirmed(request):
        return confirmation.ask(
            request,
            title=_("End the delegation to %(name)s") % {"name": delegation.delegate.display_name},
            consequences=[
                _("From now on your review items come to you again, not to %(name)s.")
                % {"name": delegation.delegate.display_name},
                _("Decisions already taken under the delegation stay."),
            ],
            button=_("End the delegation"),
            cancel=reverse("reviews:delegations"),
        )
    if delegations.end_delegation(delegation, actor=request.user):
        messages.success(request, _("Delegation ended."))
    return redirect("reviews:delegations")
