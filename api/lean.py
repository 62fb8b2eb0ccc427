"""The check API's common case answered without DRF's request machinery (``api.fastpath`` calls it).

A check is the API's hottest call, and DRF's per-request work (wrapping the request, negotiating, parsing
through parser classes, the permission and throttle classes, rendering through a renderer) cost about a
third of it. For the common case only — a well-formed bearer key of a live, active owner whose key and
rights allow ``grants: view``, a JSON body every check of which resolves, within the key's rate, no query
string — this module answers with the same functions the DRF views use, in the same order:
``keys.verify``/``keys.touch`` (authentication), the key's scopes and ``engine.can`` (``ModulePermission``),
``api.input.parse_json`` (the strict parser), ``check.prepare_*`` / ``check.answer*`` (the views), the key's
``KeyRateThrottle``. Anything else returns None, and the DRF view answers, with its own errors: a bad key
(401, counted against the address), a refusal (403), a malformed body or check (400), a missing subject
(404), a key over its rate (429), ``?explain``. A refused request may thus be counted twice against the key's
rate, only when the key is already over it. ``tests/api/test_lean.py`` compares both paths' answers.
"""

from __future__ import annotations

import json
from types import SimpleNamespace

from django.http import HttpResponse
from rest_framework import exceptions

from accounts.scoping import tenant_scope
from api import check, keys
from api.input import MAX_BODY, parse_json
from api.permissions import tenant_user
from api.throttling import KeyRateThrottle
from permissions import engine
from permissions.usage import record_use
from permissions.vocabulary import Action

MODULE, ACTION = "grants", Action.VIEW  # what the check views declare (api.views.check._CheckView)
ALLOW = "POST, OPTIONS"  # DRF's Allow header for these views


def _json_body(request) -> bool:
    content_type = request.META.get("CONTENT_TYPE", "")
    return content_type.split(";", 1)[0].strip().lower() == "application/json"


def _owner(request):
    """(key, owner) of a well-formed bearer token of a live key with an active tenant owner, else None."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    parts = header.split()
    if len(parts) != 2 or parts[0].lower() != "bearer" or not parts[1].isascii():
        return None
    found = keys.verify(parts[1])
    if found is None or not tenant_user(found[1]):
        return None
    return found


def respond(request, *, batch: bool) -> HttpResponse | None:
    """The answer of a check (``batch``: a batch) in the common case; None to let the DRF view answer."""
    if request.META.get("QUERY_STRING") or not _json_body(request):
        return None
    length = request.META.get("CONTENT_LENGTH") or ""
    if not (length.isascii() and length.isdigit() and int(length) <= MAX_BODY):
        return None
    found = _owner(request)
    if found is None:
        return None
    key, owner = found
    tenant = owner.tenant
    with tenant_scope(tenant):
        if not (key.allows(MODULE, ACTION) and engine.can(owner, ACTION, MODULE)):
            return None
        try:
            body = parse_json(request.body)  # read once; the DRF view can still read it after a None
            prepared = check.prepare_batch(tenant.pk, body) if batch else check.prepare_single(tenant.pk, body)
        except (exceptions.APIException, check.NotFoundInTenant):
            return None
        if not KeyRateThrottle().allow_request(SimpleNamespace(auth=key), None):
            return None
        keys.touch(key)
        record_use(owner, ACTION, MODULE)
        request.tenant = tenant
        data = check.answer_batch(tenant.pk, prepared) if batch else check.answer(tenant.pk, *prepared)
    content = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()
    return HttpResponse(content, content_type="application/json", headers={"Allow": ALLOW})
