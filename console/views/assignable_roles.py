"""The roles organisations may assign: the tenant's list that bounds delegated administration (an
organisation administrator gives their members only these, within their own rights). Seen with roles: view;
changed with roles: change after a recent MFA check, each change through
``delegated.set_organisation_assignable`` (audited). A role with console rights is never offered."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.stepup import mfa_is_recent, resumed_form, step_up_keeping_form
from console.forms.delegated import AssignableRoleForm
from console.views.common import show_refusal
from permissions import engine
from permissions.models import Role
from permissions.services import delegated
from permissions.services.errors import AccessRefused, ErrorCode
from permissions.views import requires
from permissions.vocabulary import Action, SystemModule, actions_of

ROLES = SystemModule.ROLES


def _gives(role: Role) -> str:
    """What the role gives, in the reader's language: "Products: View; Reports: View, Export"."""
    cells = sorted((c for c in role.matrix.all() if c.actions), key=lambda c: str(c.module.display_name))
    return "; ".join(
        f"{c.module.display_name}: {', '.join(str(a.label) for a in actions_of(c.actions))}" for c in cells
    )


def _gives_console_rights(role: Role) -> bool:
    """``escalation.role_escalates`` read from the prefetched matrix (no query per role)."""
    return any(cell.actions and cell.module.is_system for cell in role.matrix.all())


def _lists(roles) -> tuple[list[Role], list[Role]]:
    """(the roles on the list, with what they give; the roles that may be added)."""
    allowed, others = [], []
    for role in roles:
        if role.organisation_assignable:
            role.gives = _gives(role)
            allowed.append(role)
        elif not _gives_console_rights(role):
            others.append(role)
    return allowed, others


@require_http_methods(["GET", "POST"])
@requires(ROLES, Action.VIEW)
def assignable_roles(request):
    roles = list(Role.objects.prefetch_related("matrix__module").order_by("-builtin", "name"))
    allowed, others = _lists(roles)
    can_change = engine.can(request.user, Action.CHANGE, ROLES)
    if request.method == "POST":
        if not can_change:
            show_refusal(request, AccessRefused(ErrorCode.NOT_ALLOWED))
            return redirect("console:assignable_roles")
        if not mfa_is_recent(request):
            return step_up_keeping_form(request)
        form = AssignableRoleForm(request.POST, roles=allowed if request.POST.get("op") == "remove" else others)
        if not form.is_valid():
            raise Http404  # a role of another tenant, or one that cannot be added or removed: as unknown
        if _apply(request, form.cleaned_data):
            return redirect("console:assignable_roles")
        form = AssignableRoleForm(roles=others)
    else:
        resumed = resumed_form(request)  # back from the step-up: an addition is filled in again to confirm
        form = AssignableRoleForm(resumed if resumed and resumed.get("op") == "add" else None, roles=others)
    context = {"allowed": allowed, "form": form, "can_add": can_change and bool(others), "can_remove": can_change}
    return render(request, "console/assignable_roles.html", context)


def _apply(request, data) -> bool:
    role, adding = data["role"], data["op"] == "add"
    try:
        delegated.set_organisation_assignable(role, actor=request.user, assignable=adding)
    except AccessRefused as error:
        show_refusal(request, error)
        return False
    if adding:
        messages.success(request, _("Organisations may now assign the role %(role)s.") % {"role": role.display_name})
    else:
        messages.success(
            request, _("Organisations may no longer assign the role %(role)s.") % {"role": role.display_name}
        )
    return True
