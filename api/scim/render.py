"""SCIM representations of users and groups (RFC 7643 §4), their versions (ETags, RFC 7644 §3.14) and
``attributes`` / ``excludedAttributes`` (RFC 7644 §3.4.2.5)."""

from __future__ import annotations

import hashlib
import json

from django.urls import reverse

from accounts.models import User
from api.scim.base import ENTERPRISE, GROUP, USER, ScimError
from permissions.models import Group

ALWAYS = frozenset({"id", "schemas"})  # returned whatever the request asks (RFC 7643 §7 "returned: always")


def _version(body: dict) -> str:
    digest = hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()[:20]
    return f'W/"{digest}"'


def _finish(body: dict, kind: str, created, url_name: str) -> dict:
    body["meta"] = {
        "resourceType": kind,
        "created": created.isoformat(),
        "location": reverse(url_name, args=[body["id"]]),
        "version": _version(body),
    }
    return body


def user_json(user: User) -> dict:
    name = {"formatted": user.full_name, "givenName": user.given_name, "familyName": user.family_name}
    body = {
        "schemas": [USER],
        "id": str(user.pk),
        "userName": user.scim_user_name or user.email,
        "name": {k: v for k, v in name.items() if v},
        "displayName": user.full_name,
        "emails": [{"value": user.email, "type": "work", "primary": True}],
        "active": user.is_active,
    }
    if user.external_id:
        body["externalId"] = user.external_id
    if user.organisation_id:  # the enterprise extension's organization: the organisation's name
        body["schemas"] = [USER, ENTERPRISE]
        body[ENTERPRISE] = {"organization": user.organisation.name}
    if not body["name"]:
        del body["name"]
    if not user.full_name:
        del body["displayName"]
    return _finish(body, "User", user.date_joined, "scim:user")


def group_json(group: Group) -> dict:
    """A group with its members (prefetch ``memberships__user`` when rendering many). A member is its id and
    ``$ref``: ``display`` and ``type`` are not returned (a provider compares members with what it sent)."""
    members = sorted((m for m in group.memberships.all() if not m.user.scim_deleted), key=lambda m: m.user_id)
    body = {
        "schemas": [GROUP],
        "id": str(group.pk),
        "displayName": group.name,
        "members": [{"value": str(m.user_id), "$ref": reverse("scim:user", args=[m.user_id])} for m in members],
    }
    if group.external_id:
        body["externalId"] = group.external_id
    return _finish(body, "Group", group.created_at, "scim:group")


def version_of(body: dict) -> str:
    return body["meta"]["version"]


def check_if_match(request, body: dict) -> None:
    """RFC 7644 §3.14: a write with ``If-Match`` proceeds only on the resource's current version."""
    wanted = request.headers.get("If-Match")
    if not wanted:
        return
    tags = {tag.strip() for tag in wanted.split(",")}
    current = version_of(body)
    if "*" not in tags and current not in tags and current.removeprefix("W/") not in tags:
        raise ScimError(412, "The resource has changed since that version (If-Match).")


def _names(raw, urn: str) -> set[str]:
    """Lower-case attribute paths of an ``attributes`` parameter (comma-separated, or a search body's list),
    the resource's URN prefix removed."""
    if isinstance(raw, list) and all(isinstance(item, str) for item in raw):
        raw = ",".join(raw)
    elif raw is not None and not isinstance(raw, str):
        raise ScimError(400, "attributes and excludedAttributes are attribute names", "invalidValue")
    names = set()
    for part in (raw or "").split(","):
        part = part.strip().lower()
        if part.startswith(urn.lower() + ":"):
            part = part[len(urn) + 1 :]
        if part:
            names.add(part)
    return names


def project(body: dict, params, urn: str) -> dict:
    """``body`` with only the requested attributes, or without the excluded ones."""
    wanted = _names(params.get("attributes"), urn)
    excluded = _names(params.get("excludedAttributes"), urn)
    if not wanted and not excluded:
        return body
    result = {}
    for key, value in body.items():
        name = key.lower()
        if name in ALWAYS:
            result[key] = value
        elif wanted:
            if name in wanted:
                result[key] = value
            elif isinstance(value, dict | list):
                subs = _subs(name, wanted)
                if subs:
                    result[key] = _keep(value, subs)
        elif name not in excluded:
            subs = _subs(name, excluded)
            result[key] = _drop(value, subs) if subs and isinstance(value, dict | list) else value
    return result


def _subs(name: str, names: set[str]) -> set[str]:
    """The sub-attributes of ``name`` among ``names``: ``name.sub``, or ``urn:sub`` for an extension's."""
    return {n[len(name) + 1 :] for n in names if n.startswith(name + ".") or (":" in name and n.startswith(name + ":"))}


def _keep(value, subs: set[str]):
    if isinstance(value, list):
        return [_keep(item, subs) for item in value if isinstance(item, dict)]
    return {k: v for k, v in value.items() if k.lower() in subs}


def _drop(value, subs: set[str]):
    if isinstance(value, list):
        return [_drop(item, subs) for item in value if isinstance(item, dict)]
    return {k: v for k, v in value.items() if k.lower() not in subs}
