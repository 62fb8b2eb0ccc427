"""Fetching one tenant-owned object for a request: 404 whether it is missing or another tenant's.

A miss that turns out to be another tenant's row is a cross-tenant attempt: it is recorded as a
``security.access_denied`` event in the requesting user's tenant (LOG-8), and answered exactly like
a missing row, so the response never tells which ids exist elsewhere (AZ-1).
"""

from __future__ import annotations

from django.db import transaction
from django.http import Http404

import audit
from accounts.scoping import dangerously_unscoped
from audit.events import EventType
from audit.recording import Target


def get_in_tenant_or_404(queryset, request, **lookup):
    """The object of the request's tenant matching ``lookup``; else Http404 (and a denied event if foreign)."""
    model = queryset.model
    try:
        return queryset.get(**lookup)
    except (model.DoesNotExist, ValueError, TypeError):
        pass
    _record_if_foreign(model, request, lookup)
    raise Http404


def _record_if_foreign(model, request, lookup) -> None:
    tenant = getattr(request, "tenant", None)
    if tenant is None:
        return
    try:
        # Deliberately unscoped: only to tell a foreign id from a missing one, never returned.
        with dangerously_unscoped():
            foreign = model.objects.dangerously_all_tenants().filter(**lookup).exclude(tenant=tenant).exists()
    except (ValueError, TypeError):
        return
    if not foreign:
        return
    with transaction.atomic():
        audit.record(
            EventType.ACCESS_DENIED,
            tenant=tenant,
            actor=request.user,
            target=Target(type=model._meta.label_lower, id=str(next(iter(lookup.values()), ""))[:64]),
            after={"reason": "cross_tenant", "path": request.path[:300]},
        )
