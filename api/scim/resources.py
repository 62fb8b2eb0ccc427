"""SCIM Users and Groups endpoints (RFC 7644 §3): thin views over ``api.scim.users`` / ``api.scim.groups``,
whose operations go through the accounts and permissions services (checked by the engine, audited)."""

from __future__ import annotations

from rest_framework import status
from rest_framework.response import Response

from api.permissions import may
from api.scim import filters
from api.scim import groups as scim_groups
from api.scim import users as scim_users
from api.scim.base import GROUP, LIST, USER, ScimError, ScimView
from api.scim.render import group_json, project, user_json
from permissions.models import Group
from permissions.vocabulary import Action

SEARCH = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"


def _filtered(queryset, params, resource: filters.Resource):
    text = params.get("filter")
    if text in (None, ""):
        return queryset
    if not isinstance(text, str):
        raise ScimError(400, "filter is a string", "invalidFilter")
    try:
        return queryset.filter(filters.to_q(text, resource))
    except filters.InvalidFilter as error:
        raise ScimError(400, str(error), "invalidFilter") from None


def _one(body: dict, params, urn: str, created: bool = False) -> Response:
    response = Response(project(body, params, urn), status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)
    response["ETag"] = body["meta"]["version"]
    if created:
        response["Location"] = body["meta"]["location"]
    return response


def search_params(request) -> dict:
    body = request.data
    if not isinstance(body, dict) or SEARCH not in (body.get("schemas") or []):
        raise ScimError(400, f"A search body names the schema {SEARCH}.", "invalidSyntax")
    return body


class _Kind:
    """What differs between Users and Groups: their model, rendering, filter attributes and operations."""

    urn: str
    operations = None

    def rows(self):
        raise NotImplementedError

    def render(self, obj) -> dict:
        raise NotImplementedError

    def fresh(self, obj):
        raise NotImplementedError


class _UserKind(_Kind):
    urn, operations, filter = USER, scim_users, scim_users.FILTER

    def rows(self):
        return scim_users.visible().order_by("pk")

    def render(self, obj) -> dict:
        return user_json(obj)

    def fresh(self, obj):
        return obj  # the operations return the user as the services left it


class _GroupKind(_Kind):
    urn, operations, filter = GROUP, scim_groups, scim_groups.FILTER

    def rows(self):
        return Group.objects.order_by("pk").prefetch_related("memberships__user")

    def render(self, obj) -> dict:
        return group_json(obj)

    def fresh(self, obj):
        return self.rows().get(pk=obj.pk)  # its members as they are now


class _Collection(ScimView):
    kind: _Kind

    def _list(self, params) -> Response:
        rows = _filtered(self.kind.rows(), params, self.kind.filter)
        return self.listing(params, rows, lambda obj: project(self.kind.render(obj), params, self.kind.urn))

    def get(self, request):
        return self._list(request.query_params)

    def post(self, request):
        obj = self.kind.operations.create(request, request.data)
        return _one(self.kind.render(self.kind.fresh(obj)), request.query_params, self.kind.urn, True)


class _Search(_Collection):
    permission_action = "view"

    def post(self, request):
        return self._list(search_params(request))


class _Detail(ScimView):
    kind: _Kind

    def _answer(self, request, obj) -> Response:
        return _one(self.kind.render(self.kind.fresh(obj)), request.query_params, self.kind.urn)

    def get(self, request, pk):
        return self._answer(request, self.kind.operations.find(pk))

    def put(self, request, pk):
        return self._answer(request, self.kind.operations.replace(request, pk, request.data))

    def patch(self, request, pk):
        return self._answer(request, self.kind.operations.modify(request, pk, request.data))

    def delete(self, request, pk):
        self.kind.operations.delete(request, pk)  # a user is deactivated, a group deleted
        return Response(status=status.HTTP_204_NO_CONTENT)


class Users(_Collection):
    permission_module = "users"
    kind = _UserKind()


class UserSearch(_Search):
    permission_module = "users"
    kind = _UserKind()


class UserDetail(_Detail):
    permission_module = "users"
    kind = _UserKind()


class Groups(_Collection):
    permission_module = "groups"
    kind = _GroupKind()


class GroupSearch(_Search):
    permission_module = "groups"
    kind = _GroupKind()


class GroupDetail(_Detail):
    permission_module = "groups"
    kind = _GroupKind()


class RootSearch(ScimView):
    """POST /.search (RFC 7644 §3.4.3) over Users, then Groups when the key may view them: a filter naming an
    attribute one type lacks selects none of that type (RFC 7644 §3.4.2.1); one that neither can serve is
    invalidFilter."""

    permission_module = "users"
    permission_action = "view"

    def post(self, request):
        params = search_params(request)
        kinds = [_UserKind()] + ([_GroupKind()] if may(request, Action.VIEW, "groups") else [])
        sets, errors = [], []
        for kind in kinds:
            try:
                sets.append((kind, _filtered(kind.rows(), params, kind.filter)))
            except ScimError as error:
                errors.append(error)
        if not sets:
            raise errors[0]
        start, count = self.page(params)
        totals = [rows.count() for _kind, rows in sets]
        resources, skip = [], start - 1
        for (kind, rows), total in zip(sets, totals, strict=True):
            if skip >= total:
                skip -= total
                continue
            for obj in rows[skip : skip + count - len(resources)] if count > len(resources) else []:
                resources.append(project(kind.render(obj), params, kind.urn))
            skip = 0
        return Response(
            {
                "schemas": [LIST],
                "totalResults": sum(totals),
                "startIndex": start,
                "itemsPerPage": len(resources),
                "Resources": resources,
            }
        )
