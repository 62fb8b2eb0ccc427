"""Errors as problem details (RFC 9457, ``application/problem+json``), with field errors.

Every refusal has the same shape: ``type``, ``title``, ``status``, ``detail``, ``instance`` and, for
invalid input, ``errors: [{"field": ..., "detail": ..., "code": ...}]``. A missing object and another
tenant's object are the same 404 (AZ-1). Permission services' coded refusals keep their code.
"""

from __future__ import annotations

import json

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404, HttpResponse
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from accessrequests.errors import RequestCode, RequestRefused
from accounts.scoping import ScopeError
from api.input import PayloadTooLarge
from permissions.services.errors import AccessRefused, ErrorCode
from reviews.services import errors as review_errors
from reviews.services.errors import ReviewRefused

PROBLEM = "application/problem+json"
TYPE_BASE = "https://portcullis.example/problems/"


def _field_errors(detail, prefix: str = "") -> list[dict]:
    rows = []
    if isinstance(detail, dict):
        for field, inner in detail.items():
            name = field if field != "non_field_errors" else ""
            rows += _field_errors(inner, f"{prefix}.{name}" if prefix and name else (name or prefix))
    elif isinstance(detail, list):
        if all(isinstance(item, exceptions.ErrorDetail | str) for item in detail):
            rows += [
                {"field": prefix, "detail": str(item), "code": getattr(item, "code", "invalid")} for item in detail
            ]
        else:
            for index, inner in enumerate(detail):
                rows += _field_errors(inner, f"{prefix}[{index}]" if prefix else f"[{index}]")
    else:
        rows.append({"field": prefix, "detail": str(detail), "code": getattr(detail, "code", "invalid")})
    return rows


def _refused(exc: AccessRefused) -> exceptions.APIException:
    if exc.code in (ErrorCode.INVALID, ErrorCode.CROSS_TENANT):
        error = exceptions.ValidationError({"non_field_errors": [str(exc)]}, code=exc.code.value)
    else:
        error = exceptions.PermissionDenied(str(exc), code=exc.code.value)
    error.portcullis_code = exc.code.value
    error.missing = [str(m) for m in exc.missing]
    error.link = exc.link
    return error


class Conflict(exceptions.APIException):
    """409: the object's state does not allow this now (already decided, closed, a duplicate)."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


def _coded(status_code: int, message: str, code: str) -> exceptions.APIException:
    if status_code == status.HTTP_400_BAD_REQUEST:
        error = exceptions.ValidationError({"non_field_errors": [message]}, code=code)
    elif status_code == status.HTTP_403_FORBIDDEN:
        error = exceptions.PermissionDenied(message, code=code)
    else:
        error = Conflict(message, code=code)
    error.portcullis_code = code
    return error


_REQUEST_STATUS = {
    RequestCode.INVALID: status.HTTP_400_BAD_REQUEST,
    RequestCode.NOT_APPROVER: status.HTTP_403_FORBIDDEN,
    RequestCode.SELF_APPROVAL: status.HTTP_403_FORBIDDEN,
    RequestCode.SAME_APPROVER: status.HTTP_403_FORBIDDEN,
    RequestCode.OUT_OF_SCOPE: status.HTTP_403_FORBIDDEN,
}
_REVIEW_STATUS = {
    review_errors.NOT_REVIEWER: status.HTTP_403_FORBIDDEN,
    review_errors.SELF_REVIEW: status.HTTP_403_FORBIDDEN,
    review_errors.NOT_OPEN: status.HTTP_409_CONFLICT,
}


def _request_refused(exc: RequestRefused) -> exceptions.APIException:
    # A duplicate, what is already held, an already decided or expired request: 409 (the state, not the input).
    status_code = _REQUEST_STATUS.get(exc.code, status.HTTP_409_CONFLICT)
    # Invalid input names what is wrong in the field errors; any other refusal reads as its code's sentence.
    message = str(exc) if status_code == status.HTTP_400_BAD_REQUEST else str(exc.code.label)
    error = _coded(status_code, message, exc.code.value)
    if exc.existing is not None:
        error.existing = exc.existing.pk
    return error


def problem_handler(exc, context):
    """DRF's EXCEPTION_HANDLER: every API error as problem+json."""
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        from api.throttling import anonymous_refusal_throttled

        wait = anonymous_refusal_throttled(context["request"]) if context.get("request") is not None else None
        if wait is not None:
            exc = exceptions.Throttled(wait)
    if isinstance(exc, AccessRefused):
        exc = _refused(exc)
    elif isinstance(exc, RequestRefused):
        exc = _request_refused(exc)
    elif isinstance(exc, ReviewRefused):
        exc = _coded(_REVIEW_STATUS.get(exc.code, status.HTTP_400_BAD_REQUEST), str(exc), exc.code)
    elif isinstance(exc, Http404 | ScopeError):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, DjangoValidationError):  # a column's limit (portal.columns) or a model's own rule
        exc = exceptions.ValidationError(_django_detail(exc))
    elif isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge()
    elif isinstance(exc, IntegrityError):  # a uniqueness race the service's own check could not see: nothing saved
        exc = Conflict(_("This conflicts with an existing object."), code="conflict")
    response = exception_handler(exc, context)
    if response is None:
        return None
    request = context.get("request")
    code = getattr(exc, "portcullis_code", None) or _code_of(exc)
    body = {
        "type": TYPE_BASE + code,
        "title": _title(response.status_code),
        "status": response.status_code,
        "detail": _detail(exc),
        "instance": request.path if request is not None else "",
        "code": code,
    }
    if request is not None and getattr(request._request, "id", ""):
        body["request_id"] = request._request.id
    if isinstance(exc, exceptions.ValidationError):
        body["errors"] = _field_errors(exc.detail)
    if getattr(exc, "missing", None):
        body["missing"] = exc.missing
    if getattr(exc, "link", ""):
        body["link"] = exc.link  # the page that lifts the refusal (a security lesson to complete)
    if getattr(exc, "existing", None):
        body["existing"] = exc.existing  # the pending request a duplicate points to
    problem = Response(body, status=response.status_code, headers=dict(response.items()))
    problem.content_type = PROBLEM
    return problem


def _django_detail(exc: DjangoValidationError):
    if hasattr(exc, "error_dict"):
        return {field: [msg for error in errors for msg in error.messages] for field, errors in exc.error_dict.items()}
    return {"non_field_errors": [str(m) for m in exc.messages]}


def problem_response(request, status_code: int, code: str, detail: str) -> HttpResponse:
    """A problem+json answer made outside DRF (middleware, the 404/500 handlers)."""
    body = {
        "type": TYPE_BASE + code,
        "title": _title(status_code),
        "status": status_code,
        "detail": detail,
        "instance": getattr(request, "path", ""),
        "code": code,
    }
    request_id = getattr(request, "id", "")
    if request_id:
        body["request_id"] = request_id
    return HttpResponse(json.dumps(body), status=status_code, content_type=PROBLEM)


def scim_response(status_code: int, detail: str, scim_type: str = "") -> HttpResponse:
    """A SCIM error (RFC 7644 §3.12) made outside DRF."""
    from api.scim.base import ERROR, SCIM

    body = {"schemas": [ERROR], "status": str(status_code), "detail": detail}
    if scim_type:
        body["scimType"] = scim_type
    return HttpResponse(json.dumps(body), status=status_code, content_type=SCIM)


def is_api_path(path: str) -> bool:
    return path.startswith("/api/") and not path.startswith(("/api/docs/", "/api/keys/"))


def is_scim_path(path: str) -> bool:
    return path.startswith("/scim/")


def error_response(request, status_code: int, code: str, detail: str) -> HttpResponse | None:
    """The error in the API's (problem+json) or SCIM's own format for those paths, else None."""
    path = getattr(request, "path_info", "") or getattr(request, "path", "")
    if is_scim_path(path):
        scim_type = "invalidValue" if status_code == 400 else ""
        return scim_response(status_code, detail, scim_type)
    if is_api_path(path):
        return problem_response(request, status_code, code, detail)
    return None


def _code_of(exc) -> str:
    codes = exc.get_codes() if isinstance(exc, exceptions.APIException) else None
    if isinstance(codes, str):
        return codes
    return getattr(exc, "default_code", "error")


def _detail(exc) -> str:
    if isinstance(exc, exceptions.ValidationError):
        return _("The request is not valid; see errors.")
    detail = getattr(exc, "detail", "")
    return str(detail) if not isinstance(detail, list | dict) else _("The request is not valid.")


_TITLES = {
    status.HTTP_400_BAD_REQUEST: "Bad Request",
    status.HTTP_401_UNAUTHORIZED: "Unauthorized",
    status.HTTP_403_FORBIDDEN: "Forbidden",
    status.HTTP_404_NOT_FOUND: "Not Found",
    status.HTTP_405_METHOD_NOT_ALLOWED: "Method Not Allowed",
    status.HTTP_406_NOT_ACCEPTABLE: "Not Acceptable",
    status.HTTP_409_CONFLICT: "Conflict",
    status.HTTP_413_REQUEST_ENTITY_TOO_LARGE: "Content Too Large",
    status.HTTP_414_REQUEST_URI_TOO_LONG: "URI Too Long",
    status.HTTP_415_UNSUPPORTED_MEDIA_TYPE: "Unsupported Media Type",
    status.HTTP_429_TOO_MANY_REQUESTS: "Too Many Requests",
    status.HTTP_431_REQUEST_HEADER_FIELDS_TOO_LARGE: "Request Header Fields Too Large",
    status.HTTP_500_INTERNAL_SERVER_ERROR: "Internal Server Error",
}


def _title(status_code: int) -> str:
    return _TITLES.get(status_code, "Error")
