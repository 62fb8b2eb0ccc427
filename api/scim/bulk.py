"""SCIM Bulk (RFC 7644 §3.7): each operation runs like the single call it stands for — the same permission
check (the key's SCIM flag, its scopes and the engine), the same operation of ``api.scim.users`` /
``api.scim.groups`` and so the same services and audit events — in its own transaction, so a failed one
leaves nothing behind. ``bulkId:…`` references are resolved to the ids created earlier in the request, in
as many passes as the references need; ``failOnErrors`` stops after that many errors."""

from __future__ import annotations

import re

from django.db import transaction
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from api.input import MAX_BODY
from api.permissions import BY_METHOD, key_of, may, tenant_user
from api.scim import groups as scim_groups
from api.scim import users as scim_users
from api.scim.base import ScimError, ScimView, scim_error_handler
from api.scim.render import group_json, user_json
from permissions.views import LOGIN_ONLY

BULK_REQUEST = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
BULK_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:BulkResponse"
MAX_OPERATIONS = 1000
MAX_PAYLOAD = MAX_BODY
_PATH = re.compile(r"/(Users|Groups)(?:/([^/]+))?")
_KINDS = {"Users": ("users", scim_users, user_json), "Groups": ("groups", scim_groups, group_json)}
_REFERENCE = re.compile(r"^bulkId:(.+)$")


class BulkPermission(BasePermission):
    """A key with the SCIM flag; each operation is then checked like its single call."""

    def has_permission(self, request, view) -> bool:
        key = key_of(request)
        return key is not None and key.scim and tenant_user(request.user)


class _Unresolved(Exception):
    pass


class _OperationRequest:
    """The bulk request as one operation sees it: its own ``If-Match`` (the operation's ``version``)."""

    def __init__(self, request, version):
        self._request = request
        self.headers = {"If-Match": version} if isinstance(version, str) and version else {}

    def __getattr__(self, name):
        return getattr(self._request, name)


def _resolve(value, created: dict):
    """``value`` with every ``bulkId:x`` replaced by the id created for ``x``; _Unresolved when one is not yet."""
    if isinstance(value, str):
        match = _REFERENCE.match(value)
        if match is None:
            return value
        if match[1] not in created:
            raise _Unresolved(match[1])
        return created[match[1]]
    if isinstance(value, list):
        return [_resolve(item, created) for item in value]
    if isinstance(value, dict):
        return {key: _resolve(item, created) for key, item in value.items()}
    return value


def _checked(body) -> list[dict]:
    if not isinstance(body, dict) or BULK_REQUEST not in (body.get("schemas") or []):
        raise ScimError(400, f"A bulk body names the schema {BULK_REQUEST}.", "invalidSyntax")
    ops = body.get("Operations")
    if not isinstance(ops, list) or any(not isinstance(op, dict) for op in ops):
        raise ScimError(400, "Operations is a list of objects.", "invalidSyntax")
    if len(ops) > MAX_OPERATIONS:
        raise ScimError(413, f"At most {MAX_OPERATIONS} operations in one bulk request.", "tooMany")
    fail_on = body.get("failOnErrors")
    if fail_on is not None and (isinstance(fail_on, bool) or not isinstance(fail_on, int) or fail_on < 1):
        raise ScimError(400, "failOnErrors is a positive integer.", "invalidValue")
    return ops


def _run(request, op: dict, created: dict) -> dict:
    """One operation's result (``status``, ``location``, ``version``, ``response`` on an error)."""
    method = str(op.get("method", "")).upper()
    path = op.get("path")
    match = _PATH.fullmatch(path) if isinstance(path, str) else None
    pk = _resolve(match[2], created) if match and match[2] else None  # /Groups/bulkId:ytrewq
    result = {"method": method}
    if op.get("bulkId") is not None:
        result["bulkId"] = op["bulkId"]
    if match is None or method not in BY_METHOD or (method == "POST") == bool(pk):
        raise ScimError(
            400, "Each operation has a method (POST, PUT, PATCH, DELETE) and a path it allows.", "invalidPath"
        )
    if method == "POST" and not isinstance(op.get("bulkId"), str):
        raise ScimError(400, "A POST operation has a bulkId.", "invalidValue")
    module, operations, render = _KINDS[match[1]]
    if not may(request, BY_METHOD[method], module):
        raise ScimError(403, "The key or its user may not do this.")
    data = _resolve(op.get("data"), created)
    caller = _OperationRequest(request, op.get("version"))
    with transaction.atomic():
        if method == "POST":
            obj = operations.create(caller, data)
            created[op["bulkId"]] = str(obj.pk)
            pk, result["status"] = obj.pk, "201"
        elif method == "DELETE":
            operations.delete(caller, pk)
            result["status"] = "204"
            return result
        else:
            pk = (operations.replace if method == "PUT" else operations.modify)(caller, pk, data).pk
            result["status"] = "200"
    body = render(operations.find(pk))
    result.update(location=body["meta"]["location"], version=body["meta"]["version"])
    return result


def _failure(op: dict, exc: Exception) -> dict | None:
    response = scim_error_handler(exc, {})
    if response is None:
        return None
    result = {"method": str(op.get("method", "")).upper(), "status": str(response.status_code)}
    if op.get("bulkId") is not None:
        result["bulkId"] = op["bulkId"]
    result["response"] = response.data
    return result


class Bulk(ScimView):
    permission_classes = [BulkPermission]
    # AZ-3: a SCIM key is needed to enter; each operation is then checked like its single call.
    authz = LOGIN_ONLY

    def post(self, request):
        ops = _checked(request.data)
        fail_on = request.data.get("failOnErrors")
        created, results, errors = {}, {}, 0
        pending = list(enumerate(ops))
        while pending and not (fail_on and errors >= fail_on):
            waiting = []
            for index, op in pending:
                if fail_on and errors >= fail_on:
                    break
                try:
                    results[index] = _run(request, op, created)
                except _Unresolved:
                    waiting.append((index, op))
                except Exception as exc:  # noqa: BLE001 - each operation's error is its own result
                    failure = _failure(op, exc)
                    if failure is None:
                        raise
                    results[index], errors = failure, errors + 1
            if len(waiting) == len(pending):  # no progress: the references name nothing created here
                for index, op in waiting:
                    results[index] = _failure(
                        op, ScimError(409, "A bulkId reference names no created resource.", "invalidValue")
                    )
                    errors += 1
                break
            pending = waiting
        return Response(
            {"schemas": [BULK_RESPONSE], "Operations": [results[i] for i in sorted(results)]},
            status=200,
        )
