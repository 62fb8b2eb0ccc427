"""SCIM plumbing: media type, errors (RFC 7644 §3.12), list responses, the bearer-key permission."""

from __future__ import annotations

import re

from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404
from rest_framework import exceptions, renderers
from rest_framework.response import Response

from accounts.scoping import ScopeError
from api.base import TenantAPIView
from api.input import PayloadTooLarge, StrictJSONParser
from api.permissions import ScimPermission
from permissions.services.errors import AccessRefused, ErrorCode

SCIM = "application/scim+json"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
LIST = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
MAX_COUNT = 200
_INTEGER = re.compile(r"-?[0-9]{1,18}")


class ScimParser(StrictJSONParser):
    media_type = SCIM


class ScimRenderer(renderers.JSONRenderer):
    media_type = SCIM


class ScimError(exceptions.APIException):
    """A SCIM error with its ``scimType``."""

    def __init__(self, status: int, detail: str, scim_type: str = ""):
        self.status_code = status
        self.scim_type = scim_type
        super().__init__(detail)


def scim_error_handler(exc, context):
    if isinstance(exc, Http404 | ScopeError):
        exc = ScimError(404, "Resource not found")
    elif isinstance(exc, DjangoValidationError):  # a column's limit (portal.columns)
        exc = ScimError(400, " ".join(exc.messages), "invalidValue")
    elif isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge()
    elif isinstance(exc, IntegrityError):  # a uniqueness race: nothing was saved
        exc = ScimError(409, "This conflicts with an existing resource.", "uniqueness")
    elif isinstance(exc, AccessRefused):
        status = 400 if exc.code in (ErrorCode.INVALID, ErrorCode.CROSS_TENANT) else 403
        exc = ScimError(status, str(exc), "invalidValue" if status == 400 else "")
    elif isinstance(exc, exceptions.ValidationError):
        exc = ScimError(400, str(exc.detail), "invalidValue")
    elif isinstance(exc, exceptions.ParseError):
        exc = ScimError(400, str(exc.detail), "invalidSyntax")
    if not isinstance(exc, exceptions.APIException):
        return None
    body = {"schemas": [ERROR], "status": str(exc.status_code), "detail": str(exc.detail)}
    if getattr(exc, "scim_type", ""):
        body["scimType"] = exc.scim_type
    response = Response(body, status=exc.status_code)
    if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
        response["Retry-After"] = str(int(exc.wait) + 1)
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        response["WWW-Authenticate"] = "Bearer"
        response.status_code = 401
        body["status"] = "401"
    response.content_type = SCIM
    return response


class ScimView(TenantAPIView):
    """Base of the SCIM endpoints: a key with the SCIM flag and the module's action (engine + scopes)."""

    permission_classes = [ScimPermission]
    parser_classes = [ScimParser, StrictJSONParser]
    renderer_classes = [ScimRenderer, renderers.JSONRenderer]
    schema = None  # SCIM is described by its own /Schemas and /ResourceTypes, not by OpenAPI

    def get_exception_handler(self):
        return scim_error_handler

    def page(self, params) -> tuple[int, int]:
        """(startIndex ≥ 1, count between 0 and MAX_COUNT) from the query or a search body (RFC 7644 §3.4.2.4:
        a value below 1 is read as 1, a count above the maximum as the maximum). ASCII digits, at most 18."""
        values = []
        for name, default in (("startIndex", "1"), ("count", "100")):
            raw = params.get(name)
            raw = default if raw in (None, "") else raw
            if isinstance(raw, int) and not isinstance(raw, bool):
                raw = str(raw)
            if not isinstance(raw, str) or not _INTEGER.fullmatch(raw):
                raise ScimError(400, f"{name} is an integer", "invalidValue")
            values.append(int(raw))
        return max(1, values[0]), min(MAX_COUNT, max(0, values[1]))

    def listing(self, params, queryset, render) -> Response:
        """One page of ``queryset`` (ordered by id): a count and one select, whatever the page's length."""
        start, count = self.page(params)
        total = queryset.count()
        rows = list(queryset[start - 1 : start - 1 + count]) if count and start <= total else []
        return Response(
            {
                "schemas": [LIST],
                "totalResults": total,
                "startIndex": start,
                "itemsPerPage": len(rows),
                "Resources": [render(row) for row in rows],
            }
        )
