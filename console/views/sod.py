"""Separation-of-duties rules: the list, a new rule, deletion (each through
``permissions.services.sod_rules``), and the violations that exist now (the detective side)."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from accounts.lookups import get_in_tenant_or_404
from accounts.models import User
from console.forms.grants import RevokeForm
from console.forms.sod import SodRuleForm
from console.views.common import paginate, show_refusal
from permissions import engine, sod
from permissions.models import SodRule
from permissions.services import sod_rules as rule_services
from permissions.services.errors import AccessRefused
from permissions.views import requires
from permissions.vocabulary import Action, SystemModule, actions_of

GRANTS = SystemModule.GRANTS


def side_text(role, module, mask) -> str:
    """A side in the reader's language: "Role Auditor" or "Payments: Approve, Create"."""
    if role is not None:
        return _("Role %(role)s") % {"role": role.display_name}
    return f"{module.display_name}: {', '.join(str(a.label) for a in actions_of(mask))}"


def _sides(rule: SodRule) -> SodRule:
    rule.first_text = side_text(rule.first_role, rule.first_module, rule.first_actions)
    rule.second_text = side_text(rule.second_role, rule.second_module, rule.second_actions)
    return rule


RELATED = ("first_role", "first_module", "second_role", "second_module")


@require_GET
@requires(GRANTS, Action.VIEW)
def rule_list(request):
    page, query = paginate(request, SodRule.objects.select_related(*RELATED).order_by("name"))
    for rule in page.object_list:
        _sides(rule)
    context = {"page": page, "query": query, "can_create": engine.can(request.user, Action.CREATE, GRANTS)}
    return render(request, "console/sod_list.html", context)


@require_http_methods(["GET", "POST"])
@requires(GRANTS, Action.CREATE)
def create(request):
    form = SodRuleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            rule = rule_services.create_rule(actor=request.user, tenant=request.tenant, **form.cleaned_data)
        except AccessRefused as error:
            show_refusal(request, error)
        else:
            messages.success(request, _("The separation-of-duties rule %(name)s was created.") % {"name": rule.name})
            return redirect("console:sod_rules")
    return render(request, "console/sod_form.html", {"form": form})


@require_http_methods(["GET", "POST"])
@requires(GRANTS, Action.DELETE)
def delete(request, sod_rule_id: int):
    rule = _sides(get_in_tenant_or_404(SodRule.objects.select_related(*RELATED), request, pk=sod_rule_id))
    form = RevokeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            rule_services.delete_rule(rule, actor=request.user, reason=form.cleaned_data["reason"])
        except AccessRefused as error:
            show_refusal(request, error)
        else:
            messages.success(request, _("The separation-of-duties rule %(name)s was deleted.") % {"name": rule.name})
            return redirect("console:sod_rules")
    return render(request, "console/sod_delete.html", {"rule": rule, "form": form})


@require_GET
@requires(GRANTS, Action.VIEW)
def violations(request):
    """Who holds both sides of a rule now, with the exception that allows it (if any)."""
    found = sod.tenant_violations(request.tenant.pk)
    users = User.objects.in_bulk({v.user_id for v in found})
    rows = [
        {"user": users[v.user_id], "rule": _sides(v.rule), "exception": v.exception}
        for v in sorted(found, key=lambda v: (v.exception is not None, v.rule.name, users[v.user_id].email))
    ]
    return render(request, "console/sod_violations.html", {"rows": rows})
