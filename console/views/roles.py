"""Roles: list with holder counts, the matrix editor with an impact preview before confirmation, create,
clone, rename, delete (only when nobody holds the role)."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from accounts.lookups import get_in_tenant_or_404
from accounts.models import User
from accounts.stepup import mfa_is_recent, resumed_form, step_up_keeping_form
from console.forms.roles import ReasonOptionalForm, RoleNameForm, cell_box, cell_name, matrix_from_post
from console.views.common import paginate, show_refusal
from permissions import engine
from permissions.models import BuiltinRole, Module, PendingChange, Role
from permissions.services import preview as preview_services
from permissions.services import roles as role_services
from permissions.services.checks import require_scope
from permissions.services.errors import AccessRefused
from permissions.services.escalation import matrix_gain_escalates
from permissions.views import requires
from permissions.vocabulary import Action, SystemModule, actions_of, mask_of
from portal.grid import Grid, build_grid, scopes_of

ROLES = SystemModule.ROLES


@require_GET
@requires(ROLES, Action.VIEW)
def role_list(request):
    """Every role with how many users hold it (one query for the page, whatever its length)."""
    roles = Role.objects.annotate(holder_count=Count("users")).order_by("-builtin", "name")
    page, query = paginate(request, roles)
    context = {"page": page, "query": query, "can_create": engine.can(request.user, Action.CREATE, ROLES)}
    return render(request, "console/role_list.html", context)


def _locked(actor, role) -> str:
    """Why this role's matrix cannot be edited by the actor, or ''."""
    if role.builtin and role.key == BuiltinRole.ADMINISTRATOR:
        return _("The Administrator role always holds everything.")
    if actor.role_id == role.pk:
        return _("Nobody can change their own role or its matrix.")
    return ""


def _role_buttons(actor, role, holders: int) -> dict:
    change = engine.can(actor, Action.CHANGE, ROLES)
    return {
        "matrix": change and not _locked(actor, role),
        "clone": engine.can(actor, Action.CREATE, ROLES),
        "rename": change and not role.builtin,
        "delete": engine.can(actor, Action.DELETE, ROLES) and not role.builtin and holders == 0,
    }


def _grid(modules, matrix: dict[str, int]) -> Grid:
    """The matrix as a grid: one row per module, a cell per action (applicable or not, ticked or not)."""
    return build_grid(modules, checked=scopes_of(matrix), box=cell_box)


@require_GET
@requires(ROLES, Action.VIEW)
def role_detail(request, role_id: int):
    role = get_in_tenant_or_404(Role.objects.all(), request, pk=role_id)
    holders = User.objects.filter(role=role).order_by("email")
    count = holders.count()
    context = {
        "role": role,
        "grid": _grid(Module.objects.order_by("kind", "key"), role_services.matrix_of(role)),
        "holders": holders[:50],
        "holder_count": count,
        "locked": _locked(request.user, role),
        "buttons": _role_buttons(request.user, role, count),
    }
    return render(request, "console/role_detail.html", context)


def _matrix_changes(old: dict[str, int], new: dict[str, int], modules) -> list[dict]:
    """The cells that change: module, actions added, actions removed."""
    changes = []
    for module in modules:
        before, after = old.get(module.key, 0), new.get(module.key, 0)
        if before != after:
            changes.append(
                {"module": module, "added": actions_of(after & ~before), "removed": actions_of(before & ~after)}
            )
    return changes


@require_http_methods(["GET", "POST"])
@requires(ROLES, Action.CHANGE)
def edit_matrix(request, role_id: int):
    """Edit → preview (who gains and who loses what) → confirm. Nothing changes before the confirmation."""
    role = get_in_tenant_or_404(Role.objects.all(), request, pk=role_id)
    locked = _locked(request.user, role)
    modules = list(Module.objects.order_by("kind", "key"))
    old = role_services.matrix_of(role)
    step = request.POST.get("step", "edit") if request.method == "POST" else "edit"
    posted = request.POST if request.method == "POST" else resumed_form(request)
    if posted is not None:
        wanted = {key: mask_of(actions) for key, actions in matrix_from_post(posted, modules).items()}
    else:
        wanted = old
    form = ReasonOptionalForm(request.POST or None)
    if locked:
        messages.error(request, locked)
        return redirect("console:role", role_id=role.pk)
    if step in ("preview", "confirm"):
        changes = _matrix_changes(old, wanted, modules)
        try:
            for change in changes:
                if change["added"]:
                    require_scope(request.user, mask_of(change["added"]), change["module"].key)
        except AccessRefused as error:
            show_refusal(request, error)
            step = "edit"
        else:
            if matrix_gain_escalates(old, wanted, {m.key: m for m in modules}) and not mfa_is_recent(request):
                return step_up_keeping_form(request)
            if step == "confirm" and form.is_valid():
                return _apply_matrix(request, role, wanted, form.cleaned_data["reason"])
            impact = preview_services.preview_role_matrix(role, wanted)
            context = {
                "role": role,
                "changes": changes,
                "impact": impact,
                "gained": _by_user(impact.gained),
                "lost": _by_user(impact.lost),
                "cells": [cell_name(key, a) for key, mask in wanted.items() for a in actions_of(mask)],
                "form": form,
            }
            return render(request, "console/role_preview.html", context)
    context = {"role": role, "grid": _grid(modules, wanted)}
    return render(request, "console/role_matrix.html", context)


def _by_user(changes: dict) -> list[tuple]:
    """(user, their changes), by e-mail."""
    return sorted(changes.items(), key=lambda item: item[0].email)


def _apply_matrix(request, role, wanted, reason):
    try:
        result = role_services.set_role_matrix(role, wanted, actor=request.user, reason=reason)
    except AccessRefused as error:
        show_refusal(request, error)
        return redirect("console:role_matrix", role_id=role.pk)
    if isinstance(result, PendingChange):
        messages.info(request, _("The change waits for a second administrator's approval."))
    else:
        messages.success(request, _("The matrix of %(role)s was changed.") % {"role": role.display_name})
    return redirect("console:role", role_id=role.pk)


@require_http_methods(["GET", "POST"])
@requires(ROLES, Action.CREATE)
def create(request):
    form = RoleNameForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            role = role_services.create_role(
                actor=request.user,
                tenant=request.tenant,
                name=form.cleaned_data["name"],
                name_zh=form.cleaned_data["name_zh"],
            )
        except AccessRefused as error:
            show_refusal(request, error)
        else:
            messages.success(request, _("The role %(role)s was created.") % {"role": role.display_name})
            return redirect("console:role_matrix", role_id=role.pk)
    return render(request, "console/role_form.html", {"form": form, "title": _("New role"), "button": _("Create")})


@require_http_methods(["GET", "POST"])
@requires(ROLES, Action.CREATE)
def clone(request, role_id: int):
    role = get_in_tenant_or_404(Role.objects.all(), request, pk=role_id)
    form = RoleNameForm(request.POST or None, initial={"name": _("Copy of %(role)s") % {"role": role.display_name}})
    if request.method == "POST" and form.is_valid():
        try:
            new = role_services.clone_role(role, actor=request.user, name=form.cleaned_data["name"])
        except AccessRefused as error:
            show_refusal(request, error)
        else:
            messages.success(request, _("The role %(role)s was created.") % {"role": new.display_name})
            return redirect("console:role", role_id=new.pk)
    title = _("Clone %(role)s") % {"role": role.display_name}
    return render(request, "console/role_form.html", {"form": form, "title": title, "button": _("Clone")})


@require_http_methods(["GET", "POST"])
@requires(ROLES, Action.CHANGE)
def rename(request, role_id: int):
    role = get_in_tenant_or_404(Role.objects.all(), request, pk=role_id)
    form = RoleNameForm(request.POST or None, initial={"name": role.name, "name_zh": role.name_zh})
    if request.method == "POST" and form.is_valid():
        try:
            role_services.rename_role(
                role, actor=request.user, name=form.cleaned_data["name"], name_zh=form.cleaned_data["name_zh"]
            )
        except AccessRefused as error:
            show_refusal(request, error)
        else:
            messages.success(request, _("The role was renamed."))
            return redirect("console:role", role_id=role.pk)
    title = _("Rename %(role)s") % {"role": role.display_name}
    return render(request, "console/role_form.html", {"form": form, "title": title, "button": _("Rename")})


@require_http_methods(["GET", "POST"])
@requires(ROLES, Action.DELETE)
def delete(request, role_id: int):
    role = get_in_tenant_or_404(Role.objects.all(), request, pk=role_id)
    if request.method == "POST":
        try:
            role_services.delete_role(role, actor=request.user)
        except AccessRefused as error:
            show_refusal(request, error)
            return redirect("console:role", role_id=role.pk)
        messages.success(request, _("The role %(role)s was deleted.") % {"role": role.display_name})
        return redirect("console:roles")
    return render(
        request, "console/role_delete.html", {"role": role, "holders": User.objects.filter(role=role).count()}
    )
