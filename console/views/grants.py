"""The grant form (a user or a group; a module or one resource; actions; reason; expiry) and revocation.
A group grant shows its impact (who gains what) before it is confirmed; refusals change nothing."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.lookups import get_in_tenant_or_404
from accounts.models import User
from accounts.stepup import mfa_is_recent, resumed_form, step_up_keeping_form
from api.input import as_ascii_id
from console.forms.grants import GrantForm, RevokeForm
from console.views.common import show_refusal
from permissions.models import Grant, Group, PendingChange, Resource
from permissions.services import grants as grant_services
from permissions.services import preview as preview_services
from permissions.services.errors import AccessRefused
from permissions.services.escalation import grant_escalates
from permissions.views import requires
from permissions.vocabulary import Action, SystemModule

GRANTS = SystemModule.GRANTS


def _initial(request) -> dict:
    """Prefill from ?user=, ?group=, ?resource= (ids of this tenant only; anything else is ignored)."""
    initial = {}
    for key, queryset in (
        ("user", User.objects.all()),
        ("group", Group.objects.all()),
        ("resource", Resource.objects.restrict(request.user, Action.VIEW)),  # not a title they may not view
    ):
        value = as_ascii_id(request.GET.get(key, ""))
        if value is not None:
            found = queryset.filter(pk=value).first()
            if found is not None:
                initial[key] = found.email if key == "user" else found.pk
    return initial


def _subject_page(grant_or_data):
    user, group = grant_or_data.get("user"), grant_or_data.get("group")
    if user is not None:
        return redirect("console:user", user_id=user.pk)
    return redirect("console:group", group_id=group.pk)


@require_http_methods(["GET", "POST"])
@requires(GRANTS, Action.CREATE)
def new_grant(request):
    initial = _initial(request) if request.method == "GET" else None
    form = GrantForm(request.POST or resumed_form(request), initial=initial, reader=request.user)
    if form.data.get("resource") if form.is_bound else form.initial.get("resource"):
        form.fields["module"].widget = forms.HiddenInput()  # the resource names its module
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if grant_escalates(data["module"]) and not mfa_is_recent(request):
            return step_up_keeping_form(request)
        answer = _preview_or_grant(request, form, data)
        if answer is not None:
            return answer
    if form.is_bound:
        resource = form.cleaned_data.get("resource") if hasattr(form, "cleaned_data") else None
    else:
        resource_id = form.initial.get("resource")
        visible = Resource.objects.select_related("module").restrict(request.user, Action.VIEW)
        resource = visible.filter(pk=resource_id).first() if resource_id else None
    if resource is not None:
        form.fields["resource"].widget.attrs["data-picker-label"] = resource.title  # the picker's current choice
    return render(request, "console/grant_form.html", {"form": form, "resource": resource})


def _preview_or_grant(request, form, data):
    """A group grant's impact preview, or the grant itself; None (the form again) when it is refused. The
    service's checks run before the preview: a preview is only ever of a grant that would be accepted."""
    values = {key: data[key] for key in ("module", "actions", "reason", "user", "group", "resource", "expires_at")}
    values["justification"] = data.get("justification", "")  # a separation-of-duties exception asked for
    try:
        if data["group"] is not None and request.POST.get("step") != "confirm":
            grant_services.validate_grant(actor=request.user, **values)
            impact = preview_services.preview_group_grant(
                data["group"], data["module"], data["actions"], resource=data["resource"]
            )
            gained = sorted(impact.gained.items(), key=lambda item: item[0].email)
            labels = [str(Action(a).label) for a in data["actions"]]
            context = {"form": form, "data": data, "gained": gained, "action_labels": labels}
            return render(request, "console/grant_preview.html", context)
        result = grant_services.grant(actor=request.user, **values)
    except AccessRefused as error:
        show_refusal(request, error)
        return None
    if isinstance(result, PendingChange):
        messages.info(request, _("The change waits for a second administrator's approval."))
    else:
        messages.success(request, _("Grant #%(id)s was created.") % {"id": result.pk})
    return _subject_page(data)


@require_http_methods(["GET", "POST"])
@requires(GRANTS, Action.DELETE)
def revoke(request, grant_id: int):
    """Who loses what (paths other than this grant are kept), a reason, then the revocation."""
    grant = get_in_tenant_or_404(
        Grant.objects.select_related("user", "group", "module", "resource", "granted_by"), request, pk=grant_id
    )
    form = RevokeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            grant_services.revoke(grant, actor=request.user, reason=form.cleaned_data["reason"])
        except AccessRefused as error:
            show_refusal(request, error)
        else:
            messages.success(request, _("Grant #%(id)s was revoked.") % {"id": grant.pk})
            return _subject_page({"user": grant.user, "group": grant.group})
    impact = preview_services.preview_revoke(grant) if grant.revoked_at is None else None
    lost = sorted(impact.lost.items(), key=lambda item: item[0].email) if impact else []
    return render(request, "console/grant_revoke.html", {"grant": grant, "form": form, "lost": lost})
