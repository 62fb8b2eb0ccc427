"""drf-spectacular extensions: how the API's authenticators appear in the OpenAPI document."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "A tenant API key: pck_<tenant>_<prefix>_<secret>"}


class SessionScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.PortalSessionAuthentication"
    name = "PortalSession"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": "portcullis_session"}


# Every operation's error answers (FC-2): problem+json (RFC 9457), as api.errors writes them.
PROBLEM_SCHEMA = {
    "type": "object",
    "description": "An error as problem details (RFC 9457).",
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "code": {"type": "string", "description": "A stable, machine-readable code of the refusal."},
        "request_id": {"type": "string", "description": "The X-Request-ID of the request, for support."},
        "errors": {
            "type": "array",
            "description": "Invalid input: which field, why, and a code.",
            "items": {
                "type": "object",
                "properties": {"field": {"type": "string"}, "detail": {"type": "string"}, "code": {"type": "string"}},
            },
        },
        "missing": {"type": "array", "items": {"type": "string"}},
        "existing": {"type": "integer"},
    },
    "required": ["type", "title", "status", "detail"],
}
ERRORS = {
    400: "The input is not valid (malformed JSON, control characters, a value out of range, an unknown filter value).",
    401: "No valid credentials.",
    403: "The caller or the key may not do this.",
    404: "No such object in the caller's tenant (a missing and another tenant's object answer alike).",
    405: "The method is not allowed here.",
    406: "The Accept header asks for a format the API does not serve.",
    409: "The object's state does not allow this now (already decided, a duplicate).",
    413: "The body is larger than the limit (1 MiB).",
    414: "The URL is longer than the limit.",
    415: "The body is not JSON.",
    429: "Too many requests for the key; see Retry-After.",
    431: "The request headers are larger than the limit.",
}
_ALWAYS = (400, 401, 403, 404, 405, 406, 414, 429, 431)
_WITH_BODY = (409, 413, 415)


def add_error_responses(result, generator, request, public):
    """drf-spectacular postprocessing hook: the 4xx answers of every operation, as problem+json."""
    result.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    for item in result.get("paths", {}).values():
        for method, operation in item.items():
            if method not in ("get", "post", "put", "patch", "delete", "head", "options"):
                continue
            codes = _ALWAYS + (_WITH_BODY if method in ("post", "put", "patch", "delete") else ())
            responses = operation.setdefault("responses", {})
            for code in codes:
                responses.setdefault(
                    str(code),
                    {
                        "description": ERRORS[code],
                        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
                    },
                )
    return result
