"""SCIM Users and Groups (RFC 7643 §4, RFC 7644 §3): provisioning through the accounts and
permissions services, so every change is checked by the engine and audited like the console's."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from rest_framework import status
from rest_framework.response import Response

from accounts import services as accounts_services
from accounts.models import User
from api.permissions import as_id
from api.scim import filters
from api.scim.base import GROUP, PATCH_OP, USER, ScimError, ScimView
from api.services import rename_group, update_user
from permissions.models import BuiltinRole, Group, GroupMembership, PendingChange, Role
from permissions.services import groups as group_services


def _meta(kind: str, obj, created, url_name: str) -> dict:
    return {"resourceType": kind, "created": created.isoformat(), "location": reverse(url_name, args=[obj.pk])}


def user_json(user: User) -> dict:
    return {
        "schemas": [USER],
        "id": str(user.pk),
        "userName": user.email,
        "displayName": user.full_name,
        "name": {"formatted": user.full_name},
        "emails": [{"value": user.email, "primary": True, "type": "work"}],
        "active": user.is_active,
        "meta": _meta("User", user, user.date_joined, "scim:user"),
    }


def group_json(group: Group) -> dict:
    members = [{"value": str(m.user_id), "display": m.user.email} for m in group.memberships.select_related("user")]
    return {
        "schemas": [GROUP],
        "id": str(group.pk),
        "displayName": group.name,
        "members": members,
        "meta": _meta("Group", group, group.created_at, "scim:group"),
    }


def _name_of(body: dict) -> str:
    name = body.get("name") or {}
    if isinstance(name, dict):
        formatted = name.get("formatted") or " ".join(p for p in (name.get("givenName"), name.get("familyName")) if p)
    else:
        formatted = ""
    return str(body.get("displayName") or formatted or "")[:200]


def _boolean(value, name: str) -> bool:
    """A SCIM boolean: true/false, or the strings "true"/"false" (any case) some identity providers send."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ScimError(400, f"{name} is true or false", "invalidValue")


def _text(value, name: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ScimError(400, f"{name} is a string", "invalidValue")
    return value.strip()


def normalised_email(value: str) -> str:
    """An address as accounts keeps it (``User.objects.normalize_email`` then lower case)."""
    return User.objects.normalize_email(value).lower() if value else ""


def _body(request) -> dict:
    if not isinstance(request.data, dict):
        raise ScimError(400, "The body is a JSON object.", "invalidSyntax")
    return request.data


def _one(model, pk):
    obj = model.objects.filter(pk=as_id(pk)).first() if as_id(pk) is not None else None
    if obj is None:
        raise ScimError(404, f"{model.__name__} {pk} not found")
    return obj


class Users(ScimView):
    permission_module = "users"

    def get(self, request):
        rows = User.objects.order_by("pk")
        if request.query_params.get("filter"):
            try:
                found = filters.parse(
                    request.query_params["filter"], {"userName": "email", "active": "is_active"}, booleans=("active",)
                )
                if "email" in found:  # addresses are kept normalised: a differently-cased userName is the same user
                    found["email"] = normalised_email(found["email"])
                rows = rows.filter(**found)
            except filters.InvalidFilter as error:
                raise ScimError(400, str(error), "invalidFilter") from None
        return self.listing(request, rows, user_json)

    def post(self, request):
        body = _body(request)
        email = normalised_email(_text(body.get("userName"), "userName"))
        if not email:
            raise ScimError(400, "userName is required", "invalidValue")
        try:
            with transaction.atomic():
                user = accounts_services.create_user(
                    tenant=request.tenant,
                    email=email,
                    password=None,
                    role=Role.objects.get(key=BuiltinRole.BASIC),
                    full_name=_name_of(body),
                    is_active=_boolean(body.get("active", True), "active"),
                    actor=request.user,
                )
        except IntegrityError:
            raise ScimError(409, "userName is already taken", "uniqueness") from None
        except ValidationError:  # full_clean: not an e-mail address
            raise ScimError(400, "userName must be an e-mail address", "invalidValue") from None
        return Response(user_json(user), status=status.HTTP_201_CREATED)


class UserDetail(ScimView):
    permission_module = "users"

    def get(self, request, pk):
        return Response(user_json(_one(User, pk)))

    def put(self, request, pk):
        user = _one(User, pk)
        body = _body(request)
        if normalised_email(_text(body.get("userName", user.email), "userName")) != user.email:
            raise ScimError(400, "userName cannot be changed here", "mutability")
        update_user(
            user,
            actor=request.user,
            reason="SCIM",
            full_name=_name_of(body),
            is_active=_boolean(body.get("active", True), "active"),
        )
        return Response(user_json(_one(User, pk)))

    def patch(self, request, pk):
        user = _one(User, pk)
        changes = {}
        for op in _operations(request):
            path, value = (op.get("path") or ""), op.get("value")
            if op["op"] != "replace" and not (op["op"] == "add" and path):
                raise ScimError(400, f"unsupported operation {op['op']} on User", "invalidPath")
            values = value if not path and isinstance(value, dict) else {path: value}
            for attribute, inner in values.items():
                name = attribute.lower()
                if name == "active":
                    changes["is_active"] = _boolean(inner, "active")
                elif name in ("displayname", "name.formatted"):
                    changes["full_name"] = str(inner or "")[:200]
                elif name == "name" and isinstance(inner, dict):
                    changes["full_name"] = _name_of({"name": inner})
                else:
                    raise ScimError(400, f"cannot change {attribute}", "invalidPath")
        if changes:
            update_user(user, actor=request.user, reason="SCIM", **changes)
        return Response(user_json(_one(User, pk)))

    def delete(self, request, pk):
        user = _one(User, pk)
        accounts_services.deactivate_user(user, actor=request.user, reason="SCIM: deprovisioned")
        return Response(status=status.HTTP_204_NO_CONTENT)


def _operations(request) -> list[dict]:
    body = _body(request)
    if PATCH_OP not in (body.get("schemas") or []):
        raise ScimError(400, "a PatchOp request", "invalidSyntax")
    ops = body.get("Operations")
    if not isinstance(ops, list) or not ops:
        raise ScimError(400, "Operations are required", "invalidSyntax")
    result = []
    for op in ops:
        if not isinstance(op, dict) or str(op.get("op", "")).lower() not in ("add", "remove", "replace"):
            raise ScimError(400, "op is add, remove or replace", "invalidSyntax")
        result.append({**op, "op": str(op["op"]).lower()})
    return result


def _member_ids(values) -> list[User]:
    if not isinstance(values, list):
        raise ScimError(400, "members is a list", "invalidValue")
    users = []
    for item in values:
        value = item.get("value") if isinstance(item, dict) else None
        user = User.objects.filter(pk=as_id(value)).first() if as_id(value) is not None else None
        if user is None:  # another tenant's id is the same as a missing one (AZ-2)
            raise ScimError(400, f"no user {value}", "invalidValue")
        users.append(user)
    return users


def _set_members(group: Group, users: list[User], actor) -> None:
    wanted = {u.pk: u for u in users}
    current = {m.user_id: m.user for m in GroupMembership.objects.filter(group=group).select_related("user")}
    for user_id, user in current.items():
        if user_id not in wanted:
            group_services.remove_member(group, user, actor=actor)
    for user_id, user in wanted.items():
        if user_id not in current:
            result = group_services.add_member(group, user, actor=actor)
            if isinstance(result, PendingChange):
                raise ScimError(403, "joining this group needs a second administrator's approval")


class Groups(ScimView):
    permission_module = "groups"

    def get(self, request):
        rows = Group.objects.order_by("pk")
        if request.query_params.get("filter"):
            try:
                rows = rows.filter(**filters.parse(request.query_params["filter"], {"displayName": "name"}))
            except filters.InvalidFilter as error:
                raise ScimError(400, str(error), "invalidFilter") from None
        return self.listing(request, rows, group_json)

    def post(self, request):
        body = _body(request)
        name = str(body.get("displayName") or "").strip()
        if not name:
            raise ScimError(400, "displayName is required", "invalidValue")
        if Group.objects.filter(name=name).exists():
            raise ScimError(409, "displayName is already taken", "uniqueness")
        with transaction.atomic():
            group = group_services.create_group(
                actor=request.user, tenant=request.tenant, name=name, kind=Group.Kind.TEAM
            )
            _set_members(group, _member_ids(body.get("members") or []), request.user)
        return Response(group_json(group), status=status.HTTP_201_CREATED)


class GroupDetail(ScimView):
    permission_module = "groups"

    def get(self, request, pk):
        return Response(group_json(_one(Group, pk)))

    def put(self, request, pk):
        group = _one(Group, pk)
        body = _body(request)
        with transaction.atomic():
            if body.get("displayName"):
                group = rename_group(group, actor=request.user, name=str(body["displayName"]))
            _set_members(group, _member_ids(body.get("members") or []), request.user)
        return Response(group_json(group))

    def patch(self, request, pk):
        group = _one(Group, pk)
        with transaction.atomic():
            for op in _operations(request):
                path, value = str(op.get("path") or ""), op.get("value")
                if path.lower() == "displayname" or (not path and isinstance(value, dict) and "displayName" in value):
                    name = value if path else value["displayName"]
                    group = rename_group(group, actor=request.user, name=str(name))
                elif path.lower() == "members" and op["op"] == "add":
                    for user in _member_ids(value):
                        if isinstance(group_services.add_member(group, user, actor=request.user), PendingChange):
                            raise ScimError(403, "joining this group needs a second administrator's approval")
                elif path.lower() == "members" and op["op"] == "replace":
                    _set_members(group, _member_ids(value), request.user)
                elif path.lower() == "members" and op["op"] == "remove":
                    users = _member_ids(value) if value else [m.user for m in group.memberships.select_related("user")]
                    for user in users:
                        group_services.remove_member(group, user, actor=request.user)
                elif path.lower().startswith("members[") and op["op"] == "remove":
                    try:
                        found = filters.parse(path[len("members[") : -1], {"value": "user_id"})
                    except filters.InvalidFilter as error:
                        raise ScimError(400, str(error), "invalidPath") from None
                    user_id = as_id(found["user_id"])
                    user = User.objects.filter(pk=user_id).first() if user_id is not None else None
                    if user is not None:
                        group_services.remove_member(group, user, actor=request.user)
                else:
                    raise ScimError(400, f"unsupported operation {op['op']} {path}", "invalidPath")
        return Response(group_json(_one(Group, pk)))

    def delete(self, request, pk):
        _one(Group, pk)
        # Deleting a group would also delete its grants' history: the console keeps groups; SCIM may
        # empty one (PATCH remove members) instead.
        raise ScimError(501, "Groups are not deleted over SCIM; remove their members instead.")
