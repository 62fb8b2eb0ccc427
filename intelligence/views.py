"""Access intelligence pages for administrators (those who may view the security settings): outliers,
right-sizing proposals, mined roles with their impact preview, usage analytics (SVG, CSV) and alerts.
Thin: parse, call a service, render."""

from __future__ import annotations

import csv

from django.contrib import messages
from django.http import HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.lookups import get_in_tenant_or_404
from console.views.common import paginate, show_refusal
from intelligence import charts, presenters, presenting
from intelligence.forms import AdoptRoleForm, ReasonForm
from intelligence.models import Alert, ProposalStatus, RightsizingProposal, RoleProposal
from intelligence.services import analysis as analysis_services
from intelligence.services import anomalies as alert_services
from intelligence.services import feedback as feedback_services
from intelligence.services import roles as role_proposal_services
from intelligence.services.usage_analytics import usage
from permissions import engine
from permissions.models import PendingChange
from permissions.services.errors import AccessRefused, ErrorCode
from permissions.views import requires
from permissions.vocabulary import Action, SystemModule

SETTINGS = SystemModule.SETTINGS


def _can_change(user) -> bool:
    return engine.can(user, Action.CHANGE, SETTINGS)


@require_GET
@requires(SETTINGS, Action.VIEW)
def outliers(request):
    """The rights that make users unlike their peers (same role at the same organisation), with reasons."""
    result = analysis_services.analyse(timezone.now(), outliers_only=True)
    rows = presenters.outlier_rows(result)
    return render(request, "intelligence/outliers.html", {"rows": rows, "total": len(result.outliers)})


@require_GET
@requires(SETTINGS, Action.VIEW)
def proposals(request):
    """Open right-sizing proposals (stored by the scheduled job, or by "analyse now")."""
    queryset = RightsizingProposal.objects.filter(status=ProposalStatus.OPEN).order_by("-confidence", "id")
    page, query = paginate(request, queryset)
    context = {"page": page, "query": query, "rows": presenters.proposal_rows(page.object_list)}
    context["can_change"] = _can_change(request.user)
    return render(request, "intelligence/proposals.html", context)


@require_POST
@requires(SETTINGS, Action.CHANGE)
def analyse_now(request):
    """Run the analysis now and store its proposals (never applies them)."""
    analysis_services.store(request.tenant, timezone.now(), force=True)
    messages.success(request, _("The analysis ran; its proposals are stored. Nothing was changed."))
    return redirect("intelligence:roles" if request.POST.get("back") == "roles" else "intelligence:proposals")


@requires(SETTINGS, Action.CHANGE)
def dismiss(request, proposal_id: int):
    """An administrator disagrees: the proposal is dismissed and its pattern loses confidence."""
    proposal = get_in_tenant_or_404(RightsizingProposal.objects.all(), request, pk=proposal_id)
    if request.method != "POST":  # after the look-up: another tenant's id is 404 whatever the method
        return HttpResponseNotAllowed(["POST"])
    form = ReasonForm(request.POST)
    try:
        if not form.is_valid():
            raise AccessRefused(ErrorCode.INVALID, _("check the reason"))
        feedback_services.dismiss(proposal, actor=request.user, reason=form.cleaned_data["reason"])
    except AccessRefused as error:
        show_refusal(request, error)
    else:
        messages.success(request, _("Dismissed. Proposals of this kind will be made with lower confidence."))
    return redirect("intelligence:proposals")


@require_GET
@requires(SETTINGS, Action.VIEW)
def roles(request):
    """Mined role proposals, with coverage and the grants they would replace."""
    queryset = RoleProposal.objects.filter(status=ProposalStatus.OPEN).select_related("nearest_role")
    page, query = paginate(request, queryset)
    for proposal in page.object_list:
        proposal.rights_lines = presenters.rights_text(proposal.rights)
    context = {"page": page, "query": query, "can_change": _can_change(request.user)}
    return render(request, "intelligence/roles.html", context)


@require_http_methods(["GET", "POST"])
@requires(SETTINGS, Action.VIEW)
def role_proposal(request, role_proposal_id: int):
    """One mined role: its impact preview, then "create this role" (audited, four-eyes if it escalates)."""
    proposal = get_in_tenant_or_404(RoleProposal.objects.select_related("nearest_role"), request, pk=role_proposal_id)
    form = AdoptRoleForm(request.POST or None)
    can_create = engine.can(request.user, Action.CREATE, SystemModule.ROLES) and proposal.status == "open"
    if request.method == "POST" and form.is_valid() and can_create:
        try:
            result = role_proposal_services.adopt(
                proposal, actor=request.user, name=form.cleaned_data["name"], reason=form.cleaned_data["reason"]
            )
        except AccessRefused as error:
            show_refusal(request, error)
        else:
            return _adopted(request, result)
    impact = role_proposal_services.preview(proposal)
    context = {
        "proposal": proposal,
        "rights_lines": presenters.rights_text(proposal.rights),
        "gained": sorted(impact.gained.items(), key=lambda kv: kv[0].email),
        "lost": sorted(impact.lost.items(), key=lambda kv: kv[0].email),
        "form": form,
        "can_create": can_create,
        "share": presenting.percent(proposal.share),
        "unchanged": len(set(proposal.members) - {u.pk for u in [*impact.gained, *impact.lost]}),
    }
    return render(request, "intelligence/role_proposal.html", context)


def _adopted(request, result):
    if isinstance(result, PendingChange):
        messages.info(
            request, _("The role was created; its matrix gives console rights and waits for a second administrator.")
        )
        return redirect("console:approvals")
    messages.success(request, _("The role %(role)s was created from the proposal.") % {"role": result.display_name})
    return redirect("console:role", role_id=result.pk)


@require_GET
@requires(SETTINGS, Action.VIEW)
def usage_page(request):
    """Usage analytics with SVG charts."""
    figures = usage(timezone.now())
    used = sorted(
        ((f"{r.module_name} · {presenters.action_label(r.action)}", r.uses) for r in figures.rights),
        key=lambda t: -t[1],
    )
    context = {
        "figures": figures,
        "unused": [r for r in figures.rights if r.category == "unused"],
        "rare": [r for r in figures.rights if r.category == "rare"],
        "chart_rights": charts.bars([t for t in used if t[1]], title=_("Uses per right, last 90 days")),
        "chart_modules": charts.lines(figures.by_module, title=_("Uses per module and day, last 28 days")),
        "chart_orgs": charts.bars(figures.by_organisation, title=_("Uses per organisation, last 28 days")),
        "chart_roles": charts.bars(figures.by_role, title=_("Uses per role, last 28 days")),
        "chart_users": charts.bars(figures.by_user, title=_("Who uses rights most, last 90 days")),
    }
    return render(request, "intelligence/usage.html", context)


@require_GET
@requires(SETTINGS, Action.VIEW)
def usage_csv(request):
    """The per-right figures as CSV."""
    figures = usage(timezone.now())
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="usage.csv"'
    writer = csv.writer(response)
    writer.writerow(["module", "action", "holders", "users_used_90d", "uses_90d", "category"])
    for r in figures.rights:
        writer.writerow([_csv_safe(r.module_key), r.action, r.holders, r.users_used, r.uses, r.category])
    return response


def _csv_safe(value: str) -> str:
    """No spreadsheet formula injection from a tenant-chosen module key."""
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


@require_GET
@requires(SETTINGS, Action.VIEW)
def alerts(request):
    """Alerts on unusual use, open first."""
    queryset = Alert.objects.select_related("user", "module").order_by("resolved_at", "-raised_at", "-id")
    page, query = paginate(request, queryset)
    for alert in page.object_list:
        alert.text = presenting.alert_text(alert.kind, alert.detail, alert.action)
    return render(
        request, "intelligence/alerts.html", {"page": page, "query": query, "can_change": _can_change(request.user)}
    )


@requires(SETTINGS, Action.CHANGE)
def alert_action(request, alert_id: int):
    """Require a step-up of the alert's user, or resolve the alert."""
    alert = get_in_tenant_or_404(Alert.objects.select_related("user"), request, pk=alert_id)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = ReasonForm(request.POST)
    step = request.POST.get("step")
    try:
        if not form.is_valid() or step not in ("stepup", "resolve"):
            raise AccessRefused(ErrorCode.INVALID, _("choose an action"))
        service = alert_services.require_stepup if step == "stepup" else alert_services.resolve
        service(alert, actor=request.user, reason=form.cleaned_data["reason"])
    except AccessRefused as error:
        show_refusal(request, error)
    else:
        messages.success(request, _("Done."))
    return redirect("intelligence:alerts")
