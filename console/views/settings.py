"""The tenant's security settings (settings: view to read, settings: change to save, after a step-up).

A change that weakens a setting is a pending change for a second administrator (accounts.services
.update_tenant_settings); the rest applies at once. Both are in the tenant's audit trail."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from accounts import services
from accounts.models import Tenant
from accounts.stepup import mfa_is_recent, resumed_form, step_up_keeping_form
from console.views.common import show_refusal
from permissions import engine
from permissions.models import PendingChange
from permissions.services.errors import AccessRefused, ErrorCode
from permissions.views import requires
from permissions.vocabulary import Action, SystemModule

FIELDS = [
    "mfa_policy",
    "passkeys_for_administrators",
    "session_idle_minutes",
    "credential_min_length",
    "review_cadence",
    "review_duration_days",
    "request_max_days",
    "invitation_domains",
    "console_networks",
    "dormancy_days",
    "dormancy_warning_days",
    "appeal_due_days",
]


class SettingsForm(forms.ModelForm):
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=500, required=False)

    class Meta:
        model = Tenant
        fields = FIELDS
        widgets = {
            "invitation_domains": forms.Textarea(attrs={"rows": 3}),
            "console_networks": forms.Textarea(attrs={"rows": 3}),
        }


@require_http_methods(["GET", "POST"])
@requires(SystemModule.SETTINGS, Action.VIEW)
def tenant_settings(request):
    tenant = Tenant.objects.get(pk=request.tenant.pk)
    can_change = engine.can(request.user, Action.CHANGE, SystemModule.SETTINGS)
    form = SettingsForm(request.POST or resumed_form(request), instance=tenant)
    if request.method == "POST" and can_change and form.is_valid():
        if not mfa_is_recent(request):
            return step_up_keeping_form(request)
        changes = {field: form.cleaned_data[field] for field in FIELDS}
        try:
            result = services.update_tenant_settings(
                request.tenant, actor=request.user, reason=form.cleaned_data["reason"], **changes
            )
        except AccessRefused as error:
            show_refusal(request, error)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            if isinstance(result, PendingChange):
                messages.info(
                    request, _("Weakening a setting waits for a second administrator's approval; nothing changed yet.")
                )
                return redirect("console:approval", change_id=result.pk)
            messages.success(request, _("The settings were saved."))
            return redirect("console:settings")
    elif request.method == "POST" and not can_change:
        show_refusal(request, AccessRefused(ErrorCode.NOT_ALLOWED))
    if not can_change:
        for field in form.fields.values():
            field.disabled = True
    context = {"form": form, "can_change": can_change}
    return render(request, "console/tenant_settings.html", context)
