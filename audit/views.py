"""The audit viewer: the log with filters, one event with its diff, "Verify now", the export, public keys."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

import audit
from accounts.lookups import get_in_tenant_or_404
from accounts.models import User
from accounts.stepup import require_recent_mfa
from audit import keys, personal, witnessing
from audit.events import EventType
from audit.export import export_lines
from audit.filters import EventFilterForm, diff
from audit.models import AuditEvent, Checkpoint
from audit.selection import selection_lines
from audit.targets import attach_targets
from audit.verify import verify_tenant
from permissions.views import login_only, public, requires
from permissions.vocabulary import Action, SystemModule

PAGE_SIZE = 50


audit_viewer = requires(SystemModule.AUDIT, Action.VIEW)


@require_GET
@audit_viewer
def event_list(request):
    """The tenant's log, newest first, filtered and paginated (a constant number of queries per page)."""
    users = list(User.objects.order_by("email").only("pk", "email"))
    form = EventFilterForm(request.GET or None, users=users)
    events = form.filter(AuditEvent.objects.order_by("-seq")).defer("leaf_hash", "chain_hash")
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = attach_targets(personal.attach(page.object_list))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "audit/event_list.html",
        {
            "form": form,
            "filtered": form.is_valid() and any(form.cleaned_data.values()),
            "filters": [(key, value) for key, values in query.lists() for value in values],
            "page": page,
            "events": rows,
            "query": query.urlencode(),
            "witnessing": witnessing.status(request.tenant),
        },
    )


@require_GET
@audit_viewer
def event_detail(request, event_id: int):
    """One event: who, what, when, from where, the before/after diff, and its hashes."""
    event = get_in_tenant_or_404(AuditEvent.objects.all(), request, pk=event_id)
    attach_targets(personal.attach([event]))
    return render(
        request,
        "audit/event_detail.html",
        {
            "event": event,
            "label": dict(EventType.choices).get(event.event_type, event.event_type),
            "diff": diff(event.before, event.after),
        },
    )


@require_POST
@audit_viewer
def verify_now(request):
    """Recompute the tenant's whole log now and show the result (the same as ``audit_verify``)."""
    report = verify_tenant(request.tenant)
    checkpoints = list(Checkpoint.objects.order_by("-index")[:20])
    return render(request, "audit/verify.html", {"report": report, "checkpoints": checkpoints})


@require_GET
@audit_viewer
def latest_checkpoint(request):
    """Download the latest checkpoint that reached its quorum: the C2SP signed note with the log's signature
    and the witnesses' cosignatures, for the tenant to keep outside the portal as a root of trust."""
    checkpoint = witnessing.latest_witnessed(request.tenant)
    if checkpoint is None:
        raise Http404
    response = HttpResponse(witnessing.cosigned_note(checkpoint), content_type="text/plain; charset=utf-8")
    name = f"checkpoint-{request.tenant.slug}-{checkpoint.index}.txt"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_only
@require_GET
def my_receipt(request):
    """From My access: the signed-in user's receipt (their events, proved in a witnessed checkpoint)."""
    import json

    from audit import receipts

    receipt = receipts.build(request.tenant, request.user)
    if receipt is None:
        raise Http404
    response = HttpResponse(json.dumps(receipt, ensure_ascii=True, indent=1), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="audit-receipt-{request.tenant.slug}.json"'
    return response


@require_POST
@requires(SystemModule.AUDIT, Action.EXPORT)
@require_recent_mfa
def export(request):
    """Download the auditor's export (JSON Lines). The export itself is recorded first."""
    proofs = request.POST.get("proofs") == "1"
    with transaction.atomic():
        audit.record(EventType.AUDIT_EXPORTED, tenant=request.tenant, actor=request.user, after={"proofs": proofs})
    tenant = request.tenant
    name = f"audit-{tenant.slug}-{timezone.now():%Y%m%dT%H%M%SZ}.jsonl"
    response = StreamingHttpResponse(export_lines(tenant, proofs=proofs), content_type="application/x-ndjson")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@require_POST
@requires(SystemModule.AUDIT, Action.EXPORT)
@require_recent_mfa
def export_selection(request):
    """Download the events the viewer's filters show (CSV), the filters sent with the form. Recorded first,
    with the filters used."""
    users = list(User.objects.order_by("email").only("pk", "email"))
    form = EventFilterForm(request.POST, users=users)
    events = form.filter(AuditEvent.objects.all())
    used = {key: str(value) for key, value in (form.cleaned_data if form.is_valid() else {}).items() if value}
    with transaction.atomic():
        audit.record(
            EventType.AUDIT_EXPORTED, tenant=request.tenant, actor=request.user, after={"selection": used or "all"}
        )
    name = f"audit-{request.tenant.slug}-selection-{timezone.now():%Y%m%dT%H%M%SZ}.csv"
    response = StreamingHttpResponse(selection_lines(events), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@public
@never_cache
@require_GET
def public_keys(request):
    """The public keys that verify checkpoints: published without login, for auditors to pin."""
    return JsonResponse({"algorithm": keys.ALGORITHM, "keys": keys.published_keys()})
