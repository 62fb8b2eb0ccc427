"""drf-spectacular extensions: how the API's authenticators appear in the OpenAPI document, and the schema class."""

from drf_spectacular import openapi
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import serializers


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


# What the edge (api.input) accepts, stated in the schema so clients and generators know it: text without
# control characters, integers within the database's bigint, ids of at most 18 digits, a page of 1 to 200.
TEXT_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"
BIGINT = 2**63 - 1
MAX_ID = 10**18 - 1


def _describe_edge_limits(result) -> None:
    for path, item in result.get("paths", {}).items():
        for operation in item.values():
            if not isinstance(operation, dict):
                continue
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                if parameter.get("in") == "query" and parameter["name"] == "limit":
                    schema.update({"type": "integer", "minimum": 1, "maximum": 1000 if "visible" in path else 200})
                elif schema.get("type") == "integer":
                    schema.setdefault("minimum", 0)
                    schema.setdefault("maximum", MAX_ID)
                elif schema.get("type") == "string" and not ({"enum", "format", "pattern"} & set(schema)):
                    schema["pattern"] = TEXT_PATTERN
                    schema.setdefault("maxLength", 1000)
    for name, schema in result.get("components", {}).get("schemas", {}).items():
        if name.endswith("Request"):
            _limit_request_schema(schema)


def _limit_request_schema(schema) -> None:
    stack = [schema]
    while stack:
        node = stack.pop()
        if not isinstance(node, dict):
            continue
        if node.get("type") == "string" and not ({"enum", "format", "pattern"} & set(node)):
            node["pattern"] = TEXT_PATTERN
        elif node.get("type") == "integer":
            node.setdefault("maximum", BIGINT)
            node.setdefault("minimum", -BIGINT)
        stack.extend(v for v in node.values() if isinstance(v, dict))
        for value in node.values():
            if isinstance(value, list):
                stack.extend(value)


def add_error_responses(result, generator, request, public):
    """drf-spectacular postprocessing hook: the 4xx answers of every operation, as problem+json, and the
    edge's limits on text and numbers."""
    _describe_edge_limits(result)
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


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's, stating a nested list's size limits: ``Item(many=True, min_length=1,
    max_length=100)`` refuses an empty or longer list, so the document says ``minItems``/``maxItems``
    (drf-spectacular writes them for a ``ListField``, not for a nested serializer's list)."""

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if isinstance(field, serializers.ListSerializer) and isinstance(schema, dict) and schema.get("type") == "array":
            if field.min_length is not None:
                schema["minItems"] = field.min_length
            if field.max_length is not None:
                schema["maxItems"] = field.max_length
            if field.allow_empty is False:
                schema["minItems"] = max(schema.get("minItems", 0), 1)
        return schema
