"""Organisations (customer companies): list, create, edit, detail with members, owned records and
sub-organisations. Every change through ``permissions.services.organisations``; refusals change nothing."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from accounts.lookups import get_in_tenant_or_404
from accounts.models import Organisation, User
from console.forms.organisations import OrganisationForm, OrganisationMemberForm
from console.views.common import paginate, show_refusal
from permissions import engine
from permissions.engine import PathKind
from permissions.models import Resource
from permissions.services import organisations as org_services
from permissions.services.errors import AccessRefused
from permissions.views import requires
from permissions.vocabulary import Action, SystemModule
from portal import confirmation

GROUPS = SystemModule.GROUPS


@require_GET
@requires(GROUPS, Action.VIEW)
def organisation_list(request):
    page, query = paginate(request, Organisation.objects.select_related("parent").order_by("name"))
    context = {
        "page": page,
        "query": query,
        "can_create": engine.can(request.user, Action.CREATE, GROUPS),
        "sees_roles": engine.can(request.user, Action.VIEW, SystemModule.ROLES),
    }
    return render(request, "console/organisation_list.html", context)


@require_http_methods(["GET", "POST"])
@requires(GROUPS, Action.CREATE)
def create(request):
    form = OrganisationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            org = org_services.create_organisation(
                actor=request.user,
                tenant=request.tenant,
                name=data["name"],
                external_id=data["external_id"],
                parent=data["parent"],
            )
        except AccessRefused as error:
            show_refusal(request, error)
        else:
            messages.success(request, _("The organisation %(name)s was created.") % {"name": org.name})
            return redirect("console:organisation", organisation_id=org.pk)
    return render(request, "console/organisation_form.html", {"form": form})


@require_http_methods(["GET", "POST"])
@requires(GROUPS, Action.CHANGE)
def edit(request, organisation_id: int):
    org = get_in_tenant_or_404(Organisation.objects.all(), request, pk=organisation_id)
    initial = {"name": org.name, "external_id": org.external_id or "", "parent": org.parent_id, "status": org.status}
    form = OrganisationForm(request.POST or None, initial=initial, editing=org)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            _apply_edit(request, org, data)
        except AccessRefused as error:
            show_refusal(request, error)
        else:
            messages.success(request, _("The organisation %(name)s was changed.") % {"name": data["name"]})
            return redirect("console:organisation", organisation_id=org.pk)
    return render(request, "console/organisation_form.html", {"form": form, "organisation": org})


def _apply_edit(request, org, data) -> None:
    from django.db import transaction

    with transaction.atomic():
        org_services.rename_organisation(org, actor=request.user, name=data["name"], external_id=data["external_id"])
        org_services.set_organisation_status(org, actor=request.user, status=data["status"])
        org_services.reparent_organisation(org, actor=request.user, parent=data["parent"])


def administrators(org, actor) -> list:
    """Who holds "organisation: manage" on ``org`` through a grant on its row (not through groups: change
    on the whole module, which tenant administrators hold), with those paths."""
    if org.resource_id is None:
        return []
    resource = Resource.objects.restrict(actor, Action.VIEW).filter(pk=org.resource_id).first()
    if resource is None:  # the page needs groups: view, which reaches the organisation's own row
        return []
    found = []
    for holder in engine.holders(Action.CHANGE, resource):
        paths = [p for p in holder.paths if p.kind in (PathKind.USER_RESOURCE_GRANT, PathKind.GROUP_RESOURCE_GRANT)]
        if paths:
            found.append((holder.user, paths))
    return found


def _detail_context(request, org, member_form):
    actor = request.user
    members = User.objects.filter(organisation=org).order_by("email")
    records = Resource.objects.filter(owner_organisation=org).select_related("module").restrict(actor, Action.VIEW)
    return {
        "organisation": org,
        "members": members[:200],
        "member_count": members.count(),
        "records": records.order_by("module__key", "title")[:200],
        "children": Organisation.objects.filter(parent=org).order_by("name"),
        "administrators": administrators(org, actor),
        "form": member_form,
        "buttons": {
            "edit": engine.can(actor, Action.CHANGE, GROUPS),
            "members": engine.can(actor, Action.CHANGE, SystemModule.USERS),
            "grant": engine.can(actor, Action.CREATE, SystemModule.GRANTS) and org.resource_id is not None,
        },
    }


@require_GET
@requires(GROUPS, Action.VIEW)
def organisation_detail(request, organisation_id: int):
    org = get_in_tenant_or_404(Organisation.objects.select_related("parent"), request, pk=organisation_id)
    return render(request, "console/organisation_detail.html", _detail_context(request, org, OrganisationMemberForm()))


@require_http_methods(["GET", "POST"])
@requires(GROUPS, Action.VIEW)
def add_member(request, organisation_id: int):
    """Put a user of this tenant (by e-mail) in the organisation; the service checks users: change and rank."""
    org = get_in_tenant_or_404(Organisation.objects.select_related("parent"), request, pk=organisation_id)
    form = OrganisationMemberForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.cleaned_data["user"]
        try:
            org_services.set_user_organisation(user, org, actor=request.user)
        except AccessRefused as error:
            show_refusal(request, error)
        else:
            messages.success(request, _("%(email)s now works for %(name)s.") % {"email": user.email, "name": org.name})
            return redirect("console:organisation", organisation_id=org.pk)
    return render(request, "console/organisation_detail.html", _detail_context(request, org, form))


@requires(GROUPS, Action.VIEW)
def remove_member(request, organisation_id: int, user_id: int):
    """POST: the member leaves the organisation (ids first: another tenant's is 404 whatever the method)."""
    org = get_in_tenant_or_404(Organisation.objects.all(), request, pk=organisation_id)
    user = get_in_tenant_or_404(User.objects.all(), request, pk=user_id)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if user.organisation_id != org.pk:
        return redirect("console:organisation", organisation_id=org.pk)  # not a member: nothing to do
    if not confirmation.confirmed(request):
        names = {"name": user.display_name, "organisation": org.name}
        return confirmation.ask(
            request,
            title=_("Remove %(name)s from %(organisation)s") % names,
            consequences=[
                _("%(name)s no longer works for %(organisation)s.") % names,
                _("They lose what sharing rules give the organisation's members; their own role and grants stay."),
            ],
            button=_("Remove from the organisation"),
            cancel=reverse("console:organisation", kwargs={"organisation_id": org.pk}),
        )
    try:
        org_services.set_user_organisation(user, None, actor=request.user)
    except AccessRefused as error:
        show_refusal(request, error)
    else:
        messages.success(request, _("%(email)s left %(name)s.") % {"email": user.email, "name": org.name})
    return redirect("console:organisation", organisation_id=org.pk)
