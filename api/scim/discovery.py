"""SCIM discovery (RFC 7644 §4): ServiceProviderConfig, ResourceTypes, Schemas."""

from __future__ import annotations

import copy

from rest_framework.response import Response

from api.scim.base import ENTERPRISE, GROUP, LIST, MAX_COUNT, USER, ScimError, ScimView
from api.scim.bulk import MAX_OPERATIONS, MAX_PAYLOAD

SPC = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
RT = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Schema"


def _attr(
    name,
    type_="string",
    *,
    required=False,
    mutability="readWrite",
    unique="none",
    multi=False,
    sub=None,
    case_exact=False,
):
    attribute = {
        "name": name,
        "type": type_,
        "multiValued": multi,
        "required": required,
        "caseExact": case_exact,
        "mutability": mutability,
        "returned": "default",
        "uniqueness": unique,
    }
    if sub:
        attribute["subAttributes"] = sub
    if type_ == "reference":
        attribute["referenceTypes"] = ["User"]
    return attribute


#: At most this many of the tenant's organisation names are published as ``organization``'s canonicalValues.
MAX_CANONICAL_ORGANISATIONS = 200

SCHEMAS = {
    USER: {
        "id": USER,
        "name": "User",
        "description": "User Account",
        "attributes": [
            _attr("userName", required=True, unique="server"),
            _attr("externalId", unique="server", case_exact=True),
            _attr("displayName"),
            _attr(
                "name",
                "complex",
                sub=[_attr("formatted"), _attr("givenName"), _attr("familyName")],
            ),
            _attr(  # the login address: required (in emails or as userName), kept as it was at creation
                "emails",
                "complex",
                multi=True,
                required=True,
                mutability="immutable",
                sub=[
                    _attr("value", required=True, mutability="immutable"),
                    _attr("type", mutability="readOnly"),
                    _attr("primary", "boolean", mutability="readOnly"),
                ],
            ),
            _attr("active", "boolean", required=True),  # every account is active or not (true when not sent)
        ],
    },
    ENTERPRISE: {  # only what is kept; the extension's other attributes are accepted and not kept
        "id": ENTERPRISE,
        "name": "EnterpriseUser",
        "description": "Enterprise User",
        "attributes": [
            {
                **_attr("organization"),
                "description": "The user's organisation (a customer company of the tenant): its name, or when "
                "no organisation has that name, its external id. An unknown one is refused (invalidValue). "
                "canonicalValues lists the tenant's organisations by name (the first "
                f"{MAX_CANONICAL_ORGANISATIONS}).",
            }
        ],
    },
    GROUP: {
        "id": GROUP,
        "name": "Group",
        "description": "Group",
        "attributes": [
            _attr("displayName", required=True, unique="server"),
            _attr("externalId", unique="server", case_exact=True),
            _attr(
                "members",
                "complex",
                multi=True,
                sub=[
                    _attr("value", mutability="immutable"),
                    _attr("display", mutability="readOnly"),
                    _attr("type", mutability="readOnly"),
                    _attr("$ref", "reference", mutability="immutable"),
                ],
            ),
        ],
    },
}
RESOURCE_TYPES = [
    {
        "schemas": [RT],
        "id": "User",
        "name": "User",
        "endpoint": "/Users",
        "schema": USER,
        "schemaExtensions": [{"schema": ENTERPRISE, "required": False}],
        "meta": {"resourceType": "ResourceType", "location": "/scim/v2/ResourceTypes/User"},
    },
    {
        "schemas": [RT],
        "id": "Group",
        "name": "Group",
        "endpoint": "/Groups",
        "schema": GROUP,
        "meta": {"resourceType": "ResourceType", "location": "/scim/v2/ResourceTypes/Group"},
    },
]


def _with_organisations(schemas: dict) -> dict:
    """The schemas with the tenant's organisation names as ``organization``'s canonicalValues (the values a
    provider may send: what an attribute mapping or a tester picks from; tenant-scoped)."""
    from accounts.models import Organisation

    names = list(Organisation.objects.order_by("name").values_list("name", flat=True)[:MAX_CANONICAL_ORGANISATIONS])
    enterprise = copy.deepcopy(schemas[ENTERPRISE])
    enterprise["attributes"][0]["canonicalValues"] = names
    return {**schemas, ENTERPRISE: enterprise}


def _listing(items: list) -> dict:
    return {
        "schemas": [LIST],
        "totalResults": len(items),
        "startIndex": 1,
        "itemsPerPage": len(items),
        "Resources": items,
    }


class ServiceProviderConfig(ScimView):
    permission_module = "users"

    def get(self, request):
        return Response(
            {
                "schemas": [SPC],
                "documentationUri": "/api/docs/",
                "patch": {"supported": True},
                "bulk": {"supported": True, "maxOperations": MAX_OPERATIONS, "maxPayloadSize": MAX_PAYLOAD},
                "filter": {"supported": True, "maxResults": MAX_COUNT},
                "changePassword": {"supported": False},
                "sort": {"supported": False},
                "etag": {"supported": True},
                "authenticationSchemes": [
                    {
                        "type": "oauthbearertoken",
                        "name": "API key",
                        "primary": True,
                        "description": "A tenant API key with the SCIM flag, as a bearer token.",
                    }
                ],
                "meta": {"resourceType": "ServiceProviderConfig", "location": "/scim/v2/ServiceProviderConfig"},
            }
        )


class ResourceTypes(ScimView):
    permission_module = "users"

    def get(self, request, name=None):
        if name is None:
            return Response(_listing(RESOURCE_TYPES))
        for item in RESOURCE_TYPES:
            if item["id"] == name:
                return Response(item)
        raise ScimError(404, "no such resource type")


class Schemas(ScimView):
    permission_module = "users"

    def get(self, request, urn=None):
        with_schema = [
            {
                "schemas": [SCHEMA],
                **schema,
                "meta": {"resourceType": "Schema", "location": f"/scim/v2/Schemas/{schema['id']}"},
            }
            for schema in _with_organisations(SCHEMAS).values()
        ]
        if urn is None:
            return Response(_listing(with_schema))
        for item in with_schema:
            if item["id"] == urn:
                return Response(item)
        raise ScimError(404, "no such schema")
