"""POST /api/v1/check, POST /api/v1/check/batch, GET /api/v1/users/{id}/visible."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.response import Response

from accounts.models import User
from api import check
from api.base import IdCursorPagination, TenantAPIView
from api.input import flag_param
from api.permissions import ModulePermission
from permissions.models import Module, Resource
from permissions.vocabulary import Action


class _Target(serializers.Serializer):
    module = serializers.CharField()
    # null is the part left out (api.check.target_of), so the document says nullable
    resource = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=check.MAX_ID)
    external_id = serializers.CharField(required=False, allow_null=True)


class CheckRequest(serializers.Serializer):
    subject = serializers.IntegerField(help_text="A user id of the key's tenant.", min_value=0, max_value=10**18 - 1)
    action = serializers.ChoiceField(choices=Action.choices)
    target = _Target(help_text="A module key, optionally with a resource id or external id.")


class _Path(serializers.Serializer):
    kind = serializers.CharField()
    text = serializers.CharField()
    grant = serializers.IntegerField(allow_null=True)
    expires_at = serializers.DateTimeField(allow_null=True)


class CheckAnswer(serializers.Serializer):
    allowed = serializers.BooleanField()
    paths = _Path(many=True, required=False)
    reasons = serializers.ListField(child=serializers.CharField(), required=False)
    conflicts = serializers.ListField(child=serializers.CharField(), required=False)


class _CheckView(TenantAPIView):
    """Needs grants: view (who may do what is grant information), from the engine and the key."""

    permission_classes = [ModulePermission]
    permission_module = "grants"
    permission_action = Action.VIEW

    def _explain(self, request) -> bool:
        return flag_param(request, "explain")


class CheckView(_CheckView):
    @extend_schema(
        request=CheckRequest,
        responses={200: CheckAnswer},
        parameters=[OpenApiParameter("explain", bool, description="Include the paths (or reasons).")],
        summary="May the subject do the action on the target?",
    )
    def post(self, request):
        tenant_id = request.tenant.pk
        try:
            subject, action, target = check.prepare_single(tenant_id, request.data)
        except check.NotFoundInTenant:
            raise exceptions.NotFound() from None
        return Response(check.answer(tenant_id, subject, action, target, explain=self._explain(request)))


class BatchCheckView(_CheckView):
    @extend_schema(
        request=inline_serializer(
            "BatchCheckRequest", {"checks": CheckRequest(many=True, min_length=1, max_length=check.MAX_BATCH)}
        ),
        responses={
            200: inline_serializer(
                "BatchCheckAnswer",
                {
                    "results": inline_serializer(
                        "BatchCheckResult",
                        {"allowed": serializers.BooleanField(), "error": serializers.CharField(required=False)},
                        many=True,
                    )
                },
            )
        },
        parameters=[OpenApiParameter("explain", bool, description="Include the paths (or reasons).")],
        summary="Up to 100 checks in one call (answers in the same order).",
    )
    def post(self, request):
        tenant_id = request.tenant.pk
        prepared = check.prepare_batch(tenant_id, request.data)
        return Response(check.answer_batch(tenant_id, prepared, explain=self._explain(request)))


class VisiblePagination(IdCursorPagination):
    page_size = 100
    max_page_size = 1000


class VisibleView(TenantAPIView):
    """The ids of a module's resources the user may act on (engine.visible), paginated by id."""

    permission_classes = [ModulePermission]
    permission_module = "grants"
    permission_action = Action.VIEW

    @extend_schema(
        parameters=[
            OpenApiParameter("module", str, required=True),
            OpenApiParameter("action", str, enum=Action.values, default=Action.VIEW.value),
            OpenApiParameter("cursor", str),
            OpenApiParameter("limit", int),
        ],
        responses={
            200: inline_serializer(
                "VisibleIds",
                {
                    "next": serializers.URLField(allow_null=True),
                    "previous": serializers.URLField(allow_null=True),
                    "results": serializers.ListField(child=serializers.IntegerField()),
                },
            )
        },
        summary="Resource ids of a module that the user may act on",
    )
    def get(self, request, user_id: int):
        if user_id > check.MAX_ID:
            raise exceptions.NotFound()
        subject = User.objects.filter(pk=user_id).first()
        if subject is None:
            from accounts.lookups import _record_if_foreign

            _record_if_foreign(User, request, {"pk": user_id})
            raise exceptions.NotFound()
        action = request.query_params.get("action", Action.VIEW.value)
        if action not in Action.values:
            raise exceptions.ValidationError({"action": [_("Choose an action of the vocabulary.")]})
        module = Module.objects.filter(key=request.query_params.get("module", "")).first()
        if module is None:
            raise exceptions.ValidationError({"module": [_("No such module.")]})
        rows = Resource.objects.filter(module=module).restrict(subject, Action(action)).only("id")
        paginator = VisiblePagination()
        page = paginator.paginate_queryset(rows, request, view=self)
        return paginator.get_paginated_response([row.pk for row in page])
