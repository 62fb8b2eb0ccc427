"""The organisation administrator's screens: the organisations they manage, and per organisation its
people only — invite, change a role, deactivate (``permissions.services.delegated`` decides). An
organisation they do not manage, and anyone outside it, is a 404. Changes need a recent MFA check."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from accounts.lookups import get_in_tenant_or_404
from accounts.models import User
from accounts.stepup import mfa_is_recent, step_up_keeping_form
from console.forms.delegated import InviteMemberForm, MemberActionForm
from console.views.common import show_refusal
from permissions.services import delegated
from permissions.services.errors import AccessRefused
from permissions.views import login_only
from portal import confirmation


@require_GET
@login_only
def my_organisations(request):
    return render(
        request, "console/my_organisations.html", {"organisations": delegated.managed_organisations(request.user)}
    )


def _managed_or_404(request, organisation_id: int):
    return get_in_tenant_or_404(delegated.managed_organisations(request.user), request, pk=organisation_id)


@require_http_methods(["GET", "POST"])
@login_only
def people(request, organisation_id: int):
    org = _managed_or_404(request, organisation_id)
    members = User.objects.filter(organisation=org).select_related("role").order_by("email")
    roles = delegated.assignable_roles(request.user)
    invite = InviteMemberForm(roles=roles)
    if request.method == "POST":
        if not mfa_is_recent(request):
            return step_up_keeping_form(request)
        if request.POST.get("op") == "invite":
            invite = InviteMemberForm(request.POST, roles=roles)
            if invite.is_valid() and _invite(request, org, invite):
                return redirect("console:my_organisation", organisation_id=org.pk)
        else:
            action = MemberActionForm(request.POST, members=members, roles=roles)
            if not action.is_valid():
                raise Http404  # a person outside the organisation, or nothing sensible
            if action.cleaned_data["op"] == "deactivate" and not confirmation.confirmed(request):
                return _confirm_deactivation(request, org, action.cleaned_data["user"])
            _act(request, org, action.cleaned_data)
            return redirect("console:my_organisation", organisation_id=org.pk)
    context = {"organisation": org, "members": members, "roles": roles, "form": invite}
    return render(request, "console/my_organisation.html", context)


def _confirm_deactivation(request, org, user):
    names = {"name": user.display_name}
    return confirmation.ask(
        request,
        title=_("Deactivate %(name)s") % names,
        consequences=[
            _("Every session of %(name)s ends now and no login succeeds until an administrator reactivates them.")
            % names,
            _("Their role and grants are kept for that day."),
        ],
        button=_("Deactivate"),
        cancel=reverse("console:my_organisation", kwargs={"organisation_id": org.pk}),
    )


def _invite(request, org, form) -> bool:
    data = form.cleaned_data
    try:
        user = delegated.invite_member(
            actor=request.user, org=org, email=data["email"], role=data["role"], full_name=data["full_name"]
        )
    except AccessRefused as error:
        show_refusal(request, error)
        return False
    except ValidationError as error:  # outside the tenant's invitation domains, or the address is taken
        for message in error.messages:
            form.add_error("email", message)
        return False
    messages.success(request, _("%(email)s was invited into %(name)s.") % {"email": user.email, "name": org.name})
    return True


def _act(request, org, data) -> None:
    user = data["user"]
    try:
        if data["op"] == "deactivate":
            delegated.deactivate_member(actor=request.user, org=org, user=user, reason=_("by the organisation"))
            messages.success(request, _("%(email)s was deactivated.") % {"email": user.email})
        elif data["role"] is not None:
            delegated.change_member_role(actor=request.user, org=org, user=user, role=data["role"])
            messages.success(
                request,
                _("%(email)s now holds the role %(role)s.") % {"email": user.email, "role": data["role"].display_name},
            )
    except AccessRefused as error:
        show_refusal(request, error)
