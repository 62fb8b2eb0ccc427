"""The customers' module pages: lists of what ``engine.visible`` allows, details through
``get_visible_or_404``, CSV exports for holders of export, sensitive values masked (AZ-9).

The URLs name a module by key, so the views declare ``login_only`` and ask the engine for the module
or resource at hand inside (a grant on one report opens that report without the whole module).
"""

from __future__ import annotations

import csv

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from permissions import engine
from permissions.models import Resource
from permissions.sensitive import MASK, mask_rows, sensitive_names, visible_attributes
from permissions.usage import record_use
from permissions.views import get_visible_or_404, login_only
from permissions.vocabulary import Action
from workspace import access, charts, figures

PAGE_SIZE = 24
EXPORT_CHUNK = 500


def _tenant_user(request) -> None:
    if request.tenant is None:
        raise Http404


def no_access(request, module, *, resource_id=None, status=403):
    """ "You don't have access": the same page whether the item is missing or hidden (no title shown)."""
    actions = [Action.VIEW]
    return render(
        request,
        "workspace/no_access.html",
        {
            "module": module,
            "resource_id": resource_id,
            "request_url": access.request_url(module, resource_id, actions),
        },
        status=status,
    )


def _columns(rows) -> list[str]:
    seen: dict[str, None] = {}
    for _resource, attributes in rows:
        for key in attributes:
            seen.setdefault(key, None)
    return list(seen)


@login_only
@require_GET
def module_list(request, module_key: str):
    """One module's resources that the user may view, searchable (title, description, id), paginated."""
    _tenant_user(request)
    user = request.user
    module = access.module_or_404(module_key)
    if not access.may_enter(request, module):
        return no_access(request, module)
    query = request.GET.get("q", "").strip()[:100]
    rows = Resource.objects.restrict(user, Action.VIEW).filter(module=module)
    rows = rows.select_related("module", "owner_organisation")
    if query:
        # Sensitive attributes are never searched: a match on them would reveal the value (AZ-9).
        rows = rows.filter(
            Q(title__icontains=query) | Q(description__icontains=query) | Q(external_id__icontains=query)
        )
    rows = rows.order_by("title", "id")
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    items = mask_rows(user, page.object_list)
    whole = engine.can(user, Action.VIEW, module)
    if whole:
        record_use(user, Action.VIEW, module)
    missing = [
        a for a in (Action.VIEW, Action.EXPORT) if a in module.applicable_actions and not engine.can(user, a, module)
    ]
    return render(
        request,
        f"workspace/list_{_layout(module)}.html",
        {
            "module": module,
            "page": page,
            "items": items,
            "columns": _columns(items),
            "query": query,
            "can_export": access.may_export_some(user, module),
            "request_module_url": access.request_url(module, None, missing) if missing else "",
            "whole": whole,
        },
    )


def _layout(module) -> str:
    return "products" if module.key == "products" and module.kind == "business" else "table"


def _report_table(user, resource) -> tuple[list, list[dict], bool]:
    rows = figures.report_rows(resource)
    masked = figures.SENSITIVE_COLUMN in sensitive_names(resource) and not engine.can(
        user, Action.VIEW_SENSITIVE, resource
    )
    if masked:
        rows = [{**row, figures.SENSITIVE_COLUMN: MASK} for row in rows]
    return figures.REPORT_COLUMNS, rows, masked


@login_only
@require_GET
def resource_detail(request, module_key: str, resource_id: int):
    """One resource: 404 ("you don't have access", no title) unless the engine lets the user view it."""
    _tenant_user(request)
    user = request.user
    module = access.module_or_404(module_key)
    queryset = Resource.objects.filter(module=module).select_related("module", "owner")
    try:
        resource = get_visible_or_404(request, Action.VIEW, queryset, pk=resource_id)
    except Http404:
        return no_access(request, module, resource_id=resource_id, status=404)
    record_use(user, Action.VIEW, resource)
    attributes = visible_attributes(user, resource)
    can_export = engine.can(user, Action.EXPORT, resource)
    sensitive = bool(sensitive_names(resource))
    sees_sensitive = engine.can(user, Action.VIEW_SENSITIVE, resource)
    wanted = []
    if Action.EXPORT in module.applicable_actions and not can_export:
        wanted.append((_("Request export"), access.request_url(module, resource, [Action.EXPORT])))
    if sensitive and not sees_sensitive and Action.VIEW_SENSITIVE in module.applicable_actions:
        wanted.append((_("Request sensitive fields"), access.request_url(module, resource, [Action.VIEW_SENSITIVE])))
    context = {
        "module": module,
        "resource": resource,
        "attributes": attributes,
        "can_export": can_export,
        "request_buttons": wanted,
        "charts": [],
    }
    if module.key == "reports":
        columns, rows, masked = _report_table(user, resource)
        context.update(columns=columns, rows=rows, masked=masked)
        title = _("Orders per month")
        context["charts"].append((title, charts.bar_chart(title, [(r["month"], r["orders"]) for r in rows])))
        if not masked:
            title = _("Revenue per month")
            context["charts"].append((title, charts.line_chart(title, [(r["month"], r["revenue"]) for r in rows])))
    elif module.key == "analytics":
        context["charts"] = [
            (title, charts.line_chart(title, points)) for title, points in figures.dashboard_series(resource)
        ]
    return render(request, "workspace/detail.html", context)


class _Echo:
    def write(self, value):
        return value


def _cell(value) -> str:
    """A CSV cell that a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv_response(lines, name: str) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())
    response = StreamingHttpResponse(
        (writer.writerow([_cell(v) for v in line]) for line in lines), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _chunks(user, queryset):
    """The export's rows in id order, a chunk at a time, each masked with one object-answer query."""
    last = 0
    while True:
        chunk = list(queryset.filter(pk__gt=last).order_by("pk")[:EXPORT_CHUNK])
        if not chunk:
            return
        yield from mask_rows(user, chunk)
        last = chunk[-1].pk


@login_only
@require_GET
def module_export(request, module_key: str):
    """CSV of the module's resources the user may export (module-wide or per resource), masked."""
    _tenant_user(request)
    user = request.user
    module = access.module_or_404(module_key)
    if not access.may_export_some(user, module):
        raise PermissionDenied
    rows = Resource.objects.filter(module=module).select_related("module").restrict(user, Action.EXPORT)
    keys = {key for attrs in rows.order_by().values_list("attributes", flat=True) for key in (attrs or {})}
    if module.sensitive_attributes and rows.order_by().filter(sealed_attributes__isnull=False).exists():
        keys |= set(module.sensitive_attributes)  # stored encrypted, apart from the plain column (masked below)
    keys = sorted(keys)
    if engine.can(user, Action.EXPORT, module):
        record_use(user, Action.EXPORT, module)

    def lines():
        yield ["id", "title", "description", *keys]
        for resource, attributes in _chunks(user, rows):
            yield [resource.pk, resource.title, resource.description, *[attributes.get(k, "") for k in keys]]

    return _csv_response(lines(), f"{module.key}-{timezone.now():%Y%m%d}.csv")


@login_only
@require_GET
def resource_export(request, module_key: str, resource_id: int):
    """CSV of one resource (a report's table, or its attributes) for a holder of export on it."""
    _tenant_user(request)
    user = request.user
    module = access.module_or_404(module_key)
    queryset = Resource.objects.filter(module=module).select_related("module")
    resource = get_visible_or_404(request, Action.EXPORT, queryset, pk=resource_id)
    record_use(user, Action.EXPORT, resource)
    if module.key == "reports":
        columns, rows, _masked = _report_table(user, resource)
        lines = [[str(label) for _key, label in columns]] + [[row[key] for key, _l in columns] for row in rows]
    else:
        lines = [["attribute", "value"], *visible_attributes(user, resource).items()]
    return _csv_response(iter(lines), f"{module.key}-{resource.pk}.csv")
