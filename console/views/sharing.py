"""Sharing rules: the list, a new rule (its impact preview first, then confirmed), deletion (who loses
what first). Every change through ``permissions.services.sharing_rules``; refusals change nothing."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from accounts.lookups import get_in_tenant_or_404
from console.forms.grants import RevokeForm
from console.forms.organisations import SharingRuleForm
from console.views.common import paginate, show_refusal
from permissions import engine
from permissions.models import SharingRule
from permissions.services import preview as preview_services
from permissions.services import sharing_rules as rule_services
from permissions.services.errors import AccessRefused
from permissions.views import requires
from permissions.vocabulary import Action, SystemModule, actions_of

GRANTS = SystemModule.GRANTS


def _by_email(impact_side) -> list:
    return sorted(impact_side.items(), key=lambda item: item[0].email)


@require_GET
@requires(GRANTS, Action.VIEW)
def rule_list(request):
    rules = SharingRule.objects.select_related("module", "organisation", "target_organisation", "role")
    page, query = paginate(request, rules.order_by("name"))
    for rule in page.object_list:
        rule.action_labels = [str(a.label) for a in actions_of(rule.actions)]
    context = {"page": page, "query": query, "can_create": engine.can(request.user, Action.CREATE, GRANTS)}
    return render(request, "console/rule_list.html", context)


@require_http_methods(["GET", "POST"])
@requires(GRANTS, Action.CREATE)
def create(request):
    """The form; then who gains what; then, confirmed, the rule."""
    form = SharingRuleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            rule = rule_services.build_rule(tenant=request.tenant, created_by=request.user, **form.cleaned_data)
            if request.POST.get("step") != "confirm":
                gained = _by_email(preview_services.preview_rule(rule).gained)
                labels = [str(a.label) for a in actions_of(rule.actions)]
                context = {"form": form, "rule": rule, "gained": gained, "action_labels": labels}
                return render(request, "console/rule_preview.html", context)
            rule_services.create_rule(rule, actor=request.user)
        except AccessRefused as error:
            show_refusal(request, error)
        else:
            messages.success(request, _("The sharing rule %(name)s was created.") % {"name": rule.name})
            return redirect("console:sharing_rules")
    return render(request, "console/rule_form.html", {"form": form})


@require_http_methods(["GET", "POST"])
@requires(GRANTS, Action.DELETE)
def delete(request, rule_id: int):
    rule = get_in_tenant_or_404(SharingRule.objects.select_related("module"), request, pk=rule_id)
    form = RevokeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            rule_services.delete_rule(rule, actor=request.user, reason=form.cleaned_data["reason"])
        except AccessRefused as error:
            show_refusal(request, error)
        else:
            messages.success(request, _("The sharing rule %(name)s was deleted.") % {"name": rule.name})
            return redirect("console:sharing_rules")
    lost = _by_email(preview_services.preview_rule(rule, deleting=True).lost)
    return render(request, "console/rule_delete.html", {"rule": rule, "form": form, "lost": lost})
