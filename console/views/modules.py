"""Modules (business, custom; system ones read-only) and their resources, sensitive attributes masked
unless the reader holds View sensitive fields on the module (AZ-9)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from accounts.lookups import get_in_tenant_or_404
from console.forms.modules import (
    ModuleForm,
    ModuleSettingsForm,
    ResourceForm,
    ResourceOrganisationForm,
    ResourceOwnerForm,
    format_attributes,
)
from console.views.common import show_refusal, window
from permissions import engine
from permissions.models import Module, Resource
from permissions.sensitive import mask_rows, visible_attributes
from permissions.services import modules as module_services
from permissions.services.errors import AccessRefused
from permissions.services.organisations import set_resource_organisation as set_resource_organisation_service
from permissions.views import get_visible_or_404, requires
from permissions.vocabulary import Action, SystemModule

MODULES = SystemModule.MODULES
HOLDERS_SHOWN = 50


@require_GET
@requires(MODULES, Action.VIEW)
def module_list(request):
    modules = Module.objects.annotate(resource_count=Count("resources")).order_by("kind", "key")
    context = {"modules": modules, "can_create": engine.can(request.user, Action.CREATE, MODULES)}
    return render(request, "console/module_list.html", context)


@require_http_methods(["GET", "POST"])
@requires(MODULES, Action.CREATE)
def create_module(request):
    form = ModuleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            module = module_services.create_module(
                actor=request.user,
                tenant=request.tenant,
                key=data["key"],
                name=data["name"],
                name_zh=data.get("name_zh", ""),
                actions=data["actions"],
                sensitive_attributes=data["sensitive"],
            )
        except AccessRefused as error:
            show_refusal(request, error)
        else:
            messages.success(request, _("The module %(name)s was created.") % {"name": module.display_name})
            return redirect("console:module", module_id=module.pk)
    return render(request, "console/module_form.html", {"form": form})


@require_http_methods(["GET", "POST"])
@requires(MODULES, Action.CHANGE)
def edit_module(request, module_id: int):
    """A module's name (custom), sensitive attribute names and owners (console modules are read-only)."""
    module = get_in_tenant_or_404(Module.objects.all(), request, pk=module_id)
    if module.is_system:
        raise Http404
    form = ModuleSettingsForm(request.POST or None, module=module)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            module_services.update_module(
                module,
                actor=request.user,
                name=data["name"],
                name_zh=data.get("name_zh") if module.kind == "custom" else None,
                attribute_names=data.get("attribute_names"),
                sensitive_attributes=data.get("sensitive"),
                owners=data.get("owners"),
            )
        except AccessRefused as error:
            show_refusal(request, error)
        else:
            messages.success(request, _("The module %(name)s was saved.") % {"name": module.display_name})
            return redirect("console:module", module_id=module.pk)
    return render(request, "console/module_settings.html", {"form": form, "module": module})


@require_GET
@requires(MODULES, Action.VIEW)
def resource_list(request, module_id: int):
    """The module's resources the reader may view, a page at a time (constant queries), masked."""
    module = get_in_tenant_or_404(Module.objects.all(), request, pk=module_id)
    resources = Resource.objects.none()
    if not module.is_system:
        # Through the read door always: restrict adds no filter when the reader holds the whole module (the
        # module filter before it is seen), so a million-row module still costs a few ms a page.
        resources = Resource.objects.filter(module=module).restrict(request.user, Action.VIEW)
        resources = resources.select_related("module").order_by("id")
        query_text = request.GET.get("q", "").strip()
        if query_text:
            resources = resources.filter(title__icontains=query_text)
    page, query = window(request, resources)
    context = {
        "module": module,
        "page": page,
        "query": query,
        "q": request.GET.get("q", ""),
        "rows": mask_rows(request.user, page.object_list),
        "can_create": not module.is_system and engine.can(request.user, Action.CREATE, module),
        "can_change": not module.is_system and engine.can(request.user, Action.CHANGE, MODULES),
        "owners": sorted(module.owners.all(), key=lambda u: u.email),
    }
    return render(request, "console/resource_list.html", context)


@require_GET
@requires(MODULES, Action.VIEW)
def resource_detail(request, resource_id: int):
    """One resource: its attributes (masked), and who can view it and why (each holder's paths)."""
    resource = get_visible_or_404(
        request, Action.VIEW, Resource.objects.select_related("module", "owner", "owner_organisation"), pk=resource_id
    )
    holders = engine.holders(Action.VIEW, resource)
    may_set_owner = engine.can(request.user, Action.CHANGE, MODULES)
    context = {
        "owner_form": ResourceOwnerForm(initial={"owner": resource.owner.email if resource.owner_id else ""})
        if may_set_owner
        else None,
        "organisation_form": ResourceOrganisationForm(initial={"organisation": resource.owner_organisation_id})
        if may_set_owner
        else None,
        "resource": resource,
        "module": resource.module,
        "attributes": visible_attributes(request.user, resource),
        "holders": holders[:HOLDERS_SHOWN],
        "holder_count": len(holders),
        "buttons": {
            "edit": engine.can(request.user, Action.CHANGE, resource),
            "grant": engine.can(request.user, Action.CREATE, SystemModule.GRANTS),
            "why": engine.can(request.user, Action.VIEW, SystemModule.USERS),
        },
    }
    return render(request, "console/resource_detail.html", context)


@requires(MODULES, Action.CHANGE)
def set_resource_owner(request, resource_id: int):
    """Name the resource's owner (who decides access requests for it), or none."""
    resource = get_visible_or_404(request, Action.VIEW, Resource.objects.all(), pk=resource_id)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])  # after the lookup: a foreign id is a 404 first
    form = ResourceOwnerForm(request.POST)
    if not form.is_valid():
        for error in form.errors.get("owner", []):
            messages.error(request, error)
        return redirect("console:resource", resource_id=resource.pk)
    try:
        module_services.set_resource_owner(resource, form.cleaned_data["owner"], actor=request.user)
    except AccessRefused as error:
        show_refusal(request, error)
    else:
        messages.success(request, _("The owner of %(title)s was saved.") % {"title": resource.title})
    return redirect("console:resource", resource_id=resource.pk)


@requires(MODULES, Action.CHANGE)
def set_resource_organisation(request, resource_id: int):
    """Name the organisation that owns the resource, or none (permissions.services.organisations)."""
    resource = get_visible_or_404(request, Action.VIEW, Resource.objects.all(), pk=resource_id)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])  # after the lookup: a foreign id is a 404 first
    form = ResourceOrganisationForm(request.POST)
    if not form.is_valid():
        for error in form.errors.get("organisation", []):
            messages.error(request, error)
        return redirect("console:resource", resource_id=resource.pk)
    try:
        set_resource_organisation_service(resource, form.cleaned_data["organisation"], actor=request.user)
    except AccessRefused as error:
        show_refusal(request, error)
    else:
        messages.success(request, _("The owner organisation of %(title)s was saved.") % {"title": resource.title})
    return redirect("console:resource", resource_id=resource.pk)


@require_http_methods(["GET", "POST"])
@requires(MODULES, Action.VIEW)
def create_resource(request, module_id: int):
    module = get_in_tenant_or_404(Module.objects.all(), request, pk=module_id)
    if module.is_system:
        raise Http404
    if not engine.can(request.user, Action.CREATE, module):
        raise PermissionDenied
    form = ResourceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            resource = module_services.create_resource(
                actor=request.user,
                module=module,
                title=data["title"],
                description=data["description"],
                attributes=data["attributes"],
                external_id=data["external_id"] or None,
            )
        except AccessRefused as error:
            show_refusal(request, error)
        else:
            messages.success(request, _("%(title)s was created.") % {"title": resource.title})
            return redirect("console:resource", resource_id=resource.pk)
    return render(request, "console/resource_form.html", {"form": form, "module": module, "resource": None})


@require_http_methods(["GET", "POST"])
@requires(MODULES, Action.VIEW)
def edit_resource(request, resource_id: int):
    resource = get_visible_or_404(request, Action.VIEW, Resource.objects.select_related("module"), pk=resource_id)
    if not engine.can(request.user, Action.CHANGE, resource):
        raise PermissionDenied
    initial = {
        "title": resource.title,
        "description": resource.description,
        "external_id": resource.external_id or "",
        "attributes": format_attributes(visible_attributes(request.user, resource)),
    }
    form = ResourceForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            module_services.update_resource(
                resource,
                actor=request.user,
                title=data["title"],
                description=data["description"],
                external_id=data["external_id"] or None,
                attributes=data["attributes"],  # the service keeps the values hidden from the editor (FC-3)
            )
        except AccessRefused as error:
            show_refusal(request, error)
        else:
            messages.success(request, _("%(title)s was saved.") % {"title": resource.title})
            return redirect("console:resource", resource_id=resource.pk)
    context = {"form": form, "module": resource.module, "resource": resource}
    return render(request, "console/resource_form.html", context)
