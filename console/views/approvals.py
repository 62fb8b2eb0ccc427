"""Pending approvals: changes that wait for a second administrator. Approving or rejecting needs a recent
MFA step (step-up); nobody approves their own change (the service refuses it, AZ-6)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from accounts.lookups import get_in_tenant_or_404
from accounts.models import User
from accounts.stepup import mfa_is_recent, step_up_to
from console.views.common import paginate, show_refusal
from permissions import engine
from permissions.change_summaries import attach_summaries
from permissions.models import Group, Module, PendingChange, Resource, Role
from permissions.services import breakglass, preview
from permissions.services import changes as change_services
from permissions.services.errors import AccessRefused
from permissions.views import requires
from permissions.vocabulary import Action, SystemModule
from portal.forms import CleanInputMixin

GRANTS = SystemModule.GRANTS


class DecisionForm(CleanInputMixin, forms.Form):
    op = forms.ChoiceField(
        choices=[("approve", "approve"), ("reject", "reject"), ("break_glass", "break_glass")],
        widget=forms.HiddenInput,
    )
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=500, required=False)


@require_GET
@requires(GRANTS, Action.VIEW)
def change_list(request):
    status = request.GET.get("status") or PendingChange.Status.PENDING
    if status not in PendingChange.Status.values:
        status = PendingChange.Status.PENDING
    changes = (
        PendingChange.objects.filter(status=status)
        .select_related("requested_by", "decided_by")
        .order_by("-requested_at", "-id")
    )
    page, query = paginate(request, changes)
    _attach_subjects(page.object_list)
    context = {"page": page, "query": query, "status": status, "statuses": PendingChange.Status.choices}
    return render(request, "console/approval_list.html", context)


def _attach_subjects(changes) -> None:
    """Whom each change is about (a user, a group or a role), in three queries for the whole page."""
    changes = attach_summaries(changes)
    wanted = {"user": set(), "group": set(), "role": set()}
    for change in changes:
        for key, ids in wanted.items():
            if isinstance(change.payload.get(key), int):
                ids.add(change.payload[key])
    names = {
        "user": dict(User.objects.filter(pk__in=wanted["user"]).values_list("pk", "email")),
        "group": dict(Group.objects.filter(pk__in=wanted["group"]).values_list("pk", "name")),
        "role": {r.pk: r.display_name for r in Role.objects.filter(pk__in=wanted["role"])},
    }
    for change in changes:
        found = [names[key].get(change.payload.get(key)) for key in ("user", "group", "role")]
        change.subject = next((name for name in found if name), "")


def _buttons(actor, change) -> dict:
    pending = change.status == PendingChange.Status.PENDING
    own = change.requested_by_id == actor.pk
    return {
        "approve": pending and not own and engine.can(actor, Action.APPROVE, GRANTS),
        "reject": pending and not own and engine.can(actor, Action.APPROVE, GRANTS),
        "withdraw": pending and own,
        "own": own,
        "break_glass": own and breakglass.break_glass_available(change, actor),
    }


@require_http_methods(["GET", "POST"])
@requires(GRANTS, Action.VIEW)
def change_detail(request, change_id: int):
    change = get_in_tenant_or_404(
        PendingChange.objects.select_related("requested_by", "decided_by"), request, pk=change_id
    )
    attach_summaries([change])
    form = DecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if not mfa_is_recent(request):
            return step_up_to(request.path)
        try:
            if form.cleaned_data["op"] == "approve":
                change_services.approve_change(change, actor=request.user)
                messages.success(request, _("The change was approved and applied."))
            elif form.cleaned_data["op"] == "break_glass":
                started = breakglass.start_break_glass(change, actor=request.user, reason=form.cleaned_data["reason"])
                messages.success(
                    request,
                    _("The change applies by itself at %(when)s unless it is cancelled before.")
                    % {"when": date_format(localtime(started.applies_at), "DATETIME_FORMAT")},
                )
            else:
                change_services.reject_change(change, actor=request.user, reason=form.cleaned_data["reason"])
                messages.success(request, _("The change was rejected."))
        except AccessRefused as error:
            show_refusal(request, error)
        return redirect("console:approval", change_id=change.pk)
    context = {
        "change": change,
        "buttons": _buttons(request.user, change),
        "cooling_off_hours": breakglass.cooling_off().total_seconds() // 3600,
        **_impact(change, request.user),
    }
    return render(request, "console/approval_detail.html", context)


def _impact(change, reader) -> dict:
    """For a pending matrix change or group grant: who would gain and lose what (the approver's evidence)."""
    if change.status != PendingChange.Status.PENDING:
        return {}
    payload = change.payload
    impact = None
    if change.kind == PendingChange.Kind.MATRIX:
        role = Role.objects.filter(pk=payload.get("role")).first()
        if role is not None:
            impact = preview.preview_role_matrix(role, {key: int(mask) for key, mask in payload["matrix"].items()})
    elif change.kind == PendingChange.Kind.GRANT and payload.get("group"):
        group = Group.objects.filter(pk=payload["group"]).first()
        module = Module.objects.filter(pk=payload.get("module")).first()
        resource = None
        if payload.get("resource"):
            resource = Resource.objects.restrict(reader, Action.VIEW).filter(pk=payload["resource"]).first()
            if resource is None:  # not one the approver may view: no preview (never a module-wide one instead)
                return {}
        if group is not None and module is not None:
            impact = preview.preview_group_grant(group, module, payload["actions"], resource=resource)
    if impact is None:
        return {}
    return {
        "impact": True,
        "gained": sorted(impact.gained.items(), key=lambda item: item[0].email),
        "lost": sorted(impact.lost.items(), key=lambda item: item[0].email),
    }
