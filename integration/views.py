"""Console screens: upload → dry run (the preview, with every problem by file and line) → apply; export.
Thin over ``integration.services``; import needs users: create and a recent MFA step (step-up), export
users: export. The uploaded text waits in the session between the preview and the confirmation."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.stepup import require_recent_mfa
from integration import export as exporting
from integration import services
from integration.forms import ExportForm, ImportForm
from integration.rows import TooLarge, Upload, check_sizes, decode
from permissions import engine
from permissions.services.errors import AccessRefused
from permissions.views import requires
from permissions.vocabulary import Action, SystemModule

PENDING = "integration_import"


def _uploads(files) -> list[Upload]:
    check_sizes([f.size for f in files])
    return [decode(f.name, f.read()) for f in files]


def _page(request, form, **context):
    can_export = engine.can(request.user, Action.EXPORT, SystemModule.USERS)
    context = {"form": form, "export_form": ExportForm(), "can_export": can_export, **context}
    return render(request, "integration/import.html", context)


def _preview(request, report, form=None):
    return _page(request, form or ImportForm(), report=report, rows=_rows(report))


def _rows(report) -> list[dict]:
    return [
        {"where": op.where, "summary": op.summary(), "outcome": outcome}
        for op, outcome in zip(report.operations, report.outcomes, strict=False)
    ]


@require_http_methods(["GET", "POST"])
@requires(SystemModule.USERS, Action.CREATE)
@require_recent_mfa
def import_page(request):
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            uploads = _uploads(form.cleaned_data["files"])
        except (TooLarge, ValueError) as error:
            form.add_error("files", str(error))
        else:
            data = form.cleaned_data
            report = services.run_import(
                tenant=request.tenant,
                actor=request.user,
                uploads=uploads,
                format_key=data["format"],
                mapping_text=data["mapping"],
            )
            request.session[PENDING] = {
                "digest": report.digest,
                "format": data["format"],
                "mapping": data["mapping"],
                "files": [[u.name, u.text] for u in uploads],
            }
            return _preview(request, report, form)
    return _page(request, form)


@require_POST
@requires(SystemModule.USERS, Action.CREATE)
@require_recent_mfa
def apply(request):
    """Apply what the preview showed (the same files, checked again now): all of it, or nothing."""
    pending = request.session.get(PENDING)
    if not pending or pending["digest"] != request.POST.get("digest"):
        messages.error(request, _("That preview is no longer available: upload the files again."))
        return redirect("integration:import")
    uploads = [Upload(name, text) for name, text in pending["files"]]
    report = services.run_import(
        tenant=request.tenant,
        actor=request.user,
        uploads=uploads,
        format_key=pending["format"],
        mapping_text=pending["mapping"],
        dry_run=False,
    )
    if not report.applied:
        messages.error(request, _("Nothing was imported: fix the rows below and upload the files again."))
        return _preview(request, report)
    del request.session[PENDING]
    counts = report.counts()
    messages.success(
        request,
        _(
            "Imported: %(users)d users, %(roles)d roles, %(organisations)d organisations, %(grants)d grants "
            "(%(pending)d waiting for approval)."
        )
        % {key: counts.get(key, 0) for key in ("users", "roles", "organisations", "grants", "pending")},
    )
    return _preview(request, report)


@require_http_methods(["GET", "POST"])
@requires(SystemModule.USERS, Action.EXPORT)
def export(request):
    form = ExportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            name, content_type, body = exporting.export(
                tenant=request.tenant, actor=request.user, format_key=form.cleaned_data["format"]
            )
        except AccessRefused:
            messages.error(request, _("You are not allowed to do this."))
        else:
            response = HttpResponse(body, content_type=content_type)
            response["Content-Disposition"] = f"attachment; filename*=UTF-8''{_quote(name)}"
            return response
    return render(request, "integration/export.html", {"export_form": form})


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name)
