"""SCIM Groups (RFC 7643 §4.2): create, replace, patch and delete through the group services. The views
and bulk share these operations."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from accounts.models import User
from api.permissions import as_id, key_allows
from api.scim import filters, patch
from api.scim.base import GROUP, ScimError
from api.scim.render import check_if_match, group_json
from api.scim.services import Conflict, delete_group, update_scim_group
from permissions.models import Group, GroupMembership, PendingChange
from permissions.services import groups as group_services
from permissions.vocabulary import Action

SHAPE = patch.Shape(
    urn=GROUP,
    attributes={n.lower(): n for n in ("displayName", "externalId", "members", "id", "schemas")},
    multi=frozenset({"members"}),
    subs={"members": {"value": "value", "display": "display", "type": "type", "$ref": "$ref"}},
)
FILTER = filters.Resource(
    urn=GROUP,
    attributes={
        "id": filters.Attr("pk", "id"),
        "displayname": filters.Attr("name"),
        "externalid": filters.Attr("external_id", "exact"),
        "meta.created": filters.Attr("created_at", "datetime"),
        "members": filters.Multi(
            {
                "value": filters.Attr("user_id", "related"),
                "display": filters.Attr("user__email"),
                "type": filters.Attr(kind="constant", value="User"),
            },
            related=lambda: GroupMembership.objects.all(),
            link="group",
        ),
    },
)


def _text(value, name: str, limit: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ScimError(400, f"{name} is a string", "invalidValue")
    if len(value.strip()) > limit:
        raise ScimError(400, f"{name} is at most {limit} characters", "invalidValue")
    return value.strip()


def find(pk) -> Group:
    group = Group.objects.filter(pk=as_id(pk)).first() if as_id(pk) is not None else None
    if group is None:
        raise ScimError(404, f"Group {str(pk)[:40]} not found")
    return group


def members_of(values) -> list[User]:
    """The tenant's users named by ``members`` (one query); another tenant's id is as unknown as a missing one."""
    if values is None:
        return []
    if not isinstance(values, list) or any(not isinstance(v, dict) for v in values):
        raise ScimError(400, "members is a list of objects", "invalidValue")
    ids = [as_id(v.get("value") or str(v.get("$ref") or "").rstrip("/").rpartition("/")[2]) for v in values]
    found = {u.pk: u for u in User.objects.filter(scim_deleted=False, pk__in=[i for i in ids if i is not None])}
    for value, pk in zip(values, ids, strict=True):
        if pk not in found:
            raise ScimError(400, f"no user {str(value.get('value'))[:40]}", "invalidValue")
    return list(found.values())


def _set_members(group: Group, users: list[User], actor) -> None:
    wanted = {u.pk: u for u in users}
    current = {m.user_id: m.user for m in GroupMembership.objects.filter(group=group).select_related("user")}
    for user_id, user in current.items():
        if user_id not in wanted:
            group_services.remove_member(group, user, actor=actor)
    for user_id, user in wanted.items():
        if user_id not in current:
            if isinstance(group_services.add_member(group, user, actor=actor), PendingChange):
                raise ScimError(403, "joining this group needs a second administrator's approval")


def _apply(request, group: Group, body: dict) -> Group:
    name = _text(body.get("displayName"), "displayName", 150)
    if not name:
        raise ScimError(400, "displayName is required", "invalidValue")
    try:
        with transaction.atomic():
            group = update_scim_group(
                group, actor=request.user, name=name, external_id=_text(body.get("externalId"), "externalId", 255)
            )
            _set_members(group, members_of(body.get("members")), request.user)
    except (Conflict, IntegrityError) as error:
        raise ScimError(409, str(error) if isinstance(error, Conflict) else "a value is taken", "uniqueness") from None
    return group


def create(request, body) -> Group:
    if not isinstance(body, dict):
        raise ScimError(400, "The body is a JSON object.", "invalidSyntax")
    name = _text(body.get("displayName"), "displayName", 150)
    external_id = _text(body.get("externalId"), "externalId", 255)
    if not name:
        raise ScimError(400, "displayName is required", "invalidValue")
    if Group.objects.filter(name=name).exists():
        raise ScimError(409, "displayName is already taken", "uniqueness")
    if external_id and Group.objects.filter(external_id=external_id).exists():
        raise ScimError(409, "externalId is already another group's", "uniqueness")
    users = members_of(body.get("members"))
    with transaction.atomic():
        group = group_services.create_group(actor=request.user, tenant=request.tenant, name=name, kind=Group.Kind.TEAM)
        group = update_scim_group(group, actor=request.user, external_id=external_id)
        _set_members(group, users, request.user)
    return group


def _current(group: Group) -> dict:
    return group_json(Group.objects.prefetch_related("memberships__user").get(pk=group.pk))


def replace(request, pk, body) -> Group:
    group = find(pk)
    check_if_match(request, _current(group))
    if not isinstance(body, dict):
        raise ScimError(400, "The body is a JSON object.", "invalidSyntax")
    return _apply(request, group, body)


def modify(request, pk, body) -> Group:
    group = find(pk)
    current = _current(group)
    check_if_match(request, current)
    patched = patch.apply(current, patch.operations(body), SHAPE)
    if str(patched.get("id")) != current["id"]:
        raise ScimError(400, "id cannot be changed", "mutability")
    return _apply(request, group, patched)


def delete(request, pk) -> None:
    group = find(pk)
    check_if_match(request, _current(group))
    if group_services.live_grants(group).exists() and not key_allows(request, "grants", Action.DELETE):
        raise ScimError(403, "Deleting this group revokes its grants: the key needs grants: delete.")
    try:
        with transaction.atomic():
            delete_group(group, actor=request.user)
    except Conflict as error:
        raise ScimError(409, str(error)) from None
