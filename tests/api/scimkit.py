"""Helpers of the SCIM tests: a key with the SCIM flag, SCIM requests, PATCH bodies."""

import json

SCIM = "application/scim+json"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
SCOPES = {
    "users": ["view", "create", "change", "delete"],
    "groups": ["view", "create", "change", "delete"],
    "grants": ["view", "delete"],
}


def send(client, method: str, url: str, body=None, **headers):
    if method == "get":
        return client.get(url, **headers)
    data = json.dumps(body) if body is not None else ""
    return getattr(client, method)(url, data, content_type=SCIM, **headers)


def patch_body(*operations) -> dict:
    return {"schemas": [PATCH_OP], "Operations": list(operations)}


def error_of(response, status: int, scim_type: str | None = None) -> dict:
    assert response.status_code == status, response.content[:400]
    body = response.json()
    assert body["schemas"] == [ERROR] and body["status"] == str(status)
    if scim_type is not None:
        assert body.get("scimType") == scim_type, body
    return body
