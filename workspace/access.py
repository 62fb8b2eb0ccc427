"""Which business and custom modules a user may enter, and the buttons of a page: asked of the engine.

A user may enter a module's pages when they may view the whole module, or at least one of its
resources (a grant on one report lets a basic customer open Reports and see that one report).
"""

from __future__ import annotations

from django.http import Http404
from django.urls import reverse

from permissions import engine
from permissions.models import Module, Resource
from permissions.vocabulary import Action, ModuleKind

_CACHE_ATTR = "_workspace_modules"


def portal_modules():
    """The tenant's business and custom modules (the console's system modules are not pages here)."""
    return Module.objects.exclude(kind=ModuleKind.SYSTEM).order_by("kind", "name")


def viewable_modules(request) -> list[Module]:
    """The modules the request's user may enter, computed once per request (at most two queries)."""
    cached = getattr(request, _CACHE_ATTR, None)
    if cached is not None:
        return cached
    user = request.user
    modules = list(portal_modules())
    whole = {m.pk for m in modules if engine.can(user, Action.VIEW, m)}
    partly: set[int] = set()
    rest = [m.pk for m in modules if m.pk not in whole]
    if rest:
        rows = Resource.objects.filter(module_id__in=rest).restrict(user, Action.VIEW)
        partly = set(rows.order_by().values_list("module_id", flat=True).distinct())
    result = [m for m in modules if m.pk in whole or m.pk in partly]
    setattr(request, _CACHE_ATTR, result)
    return result


def module_or_404(key: str) -> Module:
    """A business or custom module of the active tenant by key; 404 for system, unknown or foreign keys."""
    module = portal_modules().filter(key=key).first()
    if module is None:
        raise Http404
    return module


def may_enter(request, module) -> bool:
    """Whether the user may open the module's pages at all."""
    return any(m.pk == module.pk for m in viewable_modules(request))


def may_export_some(user, module) -> bool:
    """The module-wide export right, or an export grant on at least one of its resources."""
    if engine.can(user, Action.EXPORT, module):
        return True
    return Resource.objects.filter(module=module).restrict(user, Action.EXPORT).exists()


def request_url(module, resource=None, actions=()) -> str:
    """The access-request form, prefilled for this target."""
    url = reverse("accessrequests:new") + f"?module={module.key}"
    if resource is not None:
        url += f"&resource={resource if isinstance(resource, int) else resource.pk}"
    for action in actions:
        url += f"&actions={Action(action).value}"
    return url


def nav_entries(request) -> list[tuple[str, str]]:
    """Menu entries, one per module the user may enter (portal.navigation provider)."""
    return [
        (m.display_name, reverse("workspace:list", kwargs={"module_key": m.key})) for m in viewable_modules(request)
    ]
