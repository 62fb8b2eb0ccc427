"""The console page of dormant accounts: who is idle, who was warned or deactivated, and the exception list.

Reading needs users: view; changing the exception list needs users: change (checked again by the services)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from accounts.lookups import get_in_tenant_or_404
from accounts.models import User
from console.views.common import show_refusal
from dormancy import services
from dormancy.models import DormancyException, DormancyWarning
from dormancy.policy import Policy, idle_before, idle_since
from permissions import engine
from permissions.services.errors import AccessRefused
from permissions.services.escalation import holds_console_rights
from permissions.views import requires
from permissions.vocabulary import Action, SystemModule
from portal import confirmation
from portal.forms import CleanInputMixin
from portal.pickers.widgets import PickerTextInput

SHOWN = 200


class ExceptionForm(CleanInputMixin, forms.Form):
    email = forms.EmailField(
        label=gettext_lazy("E-mail of the account"), widget=PickerTextInput("people", attrs={"inputmode": "email"})
    )
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=services.MAX_REASON)


def _idle_rows(policy: Policy, now) -> list[dict]:
    """The active users idle long enough to be warned, with their warning and deactivation date."""
    users = list(idle_before(now - policy.warn_after()).select_related("role").order_by("last_login", "pk")[:SHOWN])
    warnings = {(w.user_id, w.idle_since): w for w in DormancyWarning.objects.filter(user__in=users)}
    rows = []
    for user in users:
        since = idle_since(user)
        warning = warnings.get((user.pk, since))
        rows.append(
            {
                "user": user,
                "since": since,
                "days": (now - since).days,
                "warned_at": warning.warned_at if warning else None,
                "deactivation_at": policy.deactivation_at(since, warning.warned_at if warning else None),
                "privileged": holds_console_rights(user),
            }
        )
    return rows


@require_GET
@requires(SystemModule.USERS, Action.VIEW)
def overview(request):
    policy, now = Policy.of(request.tenant), timezone.now()
    deactivated = DormancyWarning.objects.filter(deactivated_at__isnull=False).select_related("user")
    context = {
        "policy": policy,
        "rows": _idle_rows(policy, now) if policy.active else [],
        "deactivated": list(deactivated.order_by("-deactivated_at")[:50]),
        "exceptions": list(DormancyException.objects.select_related("user", "added_by").order_by("user__email")),
        "can_change": engine.can(request.user, Action.CHANGE, SystemModule.USERS),
        "form": ExceptionForm(),
    }
    return render(request, "dormancy/overview.html", context)


@require_http_methods(["GET", "POST"])
@requires(SystemModule.USERS, Action.CHANGE)
def add_exception(request):
    if request.method == "POST":
        form = ExceptionForm(request.POST)
        user = User.objects.filter(email=form.data.get("email", "").strip().lower()).first()
        if not form.is_valid() or user is None:
            messages.error(request, _("Give the e-mail of an account of this organisation and a reason."))
        else:
            try:
                services.add_exception(user, actor=request.user, reason=form.cleaned_data["reason"])
            except AccessRefused as error:
                show_refusal(request, error)
            else:
                messages.success(request, _("%(email)s is exempt from the dormancy policy.") % {"email": user.email})
    return redirect("dormancy:overview")


@require_http_methods(["GET", "POST"])
@requires(SystemModule.USERS, Action.CHANGE)
def remove_exception(request, user_id: int):
    user = get_in_tenant_or_404(User.objects.all(), request, pk=user_id)
    if request.method == "POST" and not confirmation.confirmed(request):
        return confirmation.ask(
            request,
            title=_("Put %(email)s under the dormancy policy again") % {"email": user.email},
            consequences=[
                _("The account is no longer an exception: once idle long enough it is warned, then deactivated."),
            ],
            button=_("Remove the exception"),
            cancel=reverse("dormancy:overview"),
        )
    if request.method == "POST":
        try:
            services.remove_exception(user, actor=request.user)
        except AccessRefused as error:
            show_refusal(request, error)
        else:
            messages.success(request, _("%(email)s is under the dormancy policy again.") % {"email": user.email})
    return redirect("dormancy:overview")
