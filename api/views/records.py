"""Grants (create/revoke through permissions.services.grants), audit events and checkpoints (read)."""

from __future__ import annotations

from datetime import UTC

from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.models import User
from api.base import TenantViewSet
from api.input import flag_param, id_param
from api.permissions import key_allows
from api.views.people import PendingSerializer, TenantSlugField, accepted, tenant_field
from audit.models import AuditEvent, Checkpoint
from audit.personal import clear_values
from permissions.models import Grant, Group, Module, PendingChange, Resource
from permissions.services import grants as grant_services
from permissions.vocabulary import Action, actions_of


class GrantSerializer(serializers.ModelSerializer):
    user = tenant_field(User, required=False, allow_null=True)
    group = tenant_field(Group, required=False, allow_null=True)
    module = TenantSlugField(Module, slug_field="key")
    resource = tenant_field(Resource, required=False, allow_null=True)
    actions = serializers.ListField(child=serializers.ChoiceField(Action.choices), min_length=1, write_only=True)
    justification = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        max_length=1000,
        help_text="Justification of a separation-of-duties exception (the grant waits for a second administrator).",
    )

    class Meta:
        model = Grant
        fields = [
            "id",
            "justification",
            "user",
            "group",
            "module",
            "resource",
            "actions",
            "reason",
            "expires_at",
            "provenance",
            "reference",
            "granted_by",
            "created_at",
            "revoked_at",
            "revoked_by",
        ]
        read_only_fields = [
            "id",
            "provenance",
            "reference",
            "granted_by",
            "created_at",
            "revoked_at",
            "revoked_by",
        ]

    def to_representation(self, grant):
        data = super().to_representation(grant)
        data["actions"] = [a.value for a in actions_of(grant.actions)]
        return data


class RevokeSerializer(serializers.Serializer):
    reason = serializers.CharField()


class GrantViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """Grants of the tenant (grants: view). POST grants (202 when a second administrator must approve);
    POST /grants/{id}/revoke revokes (grants: delete)."""

    model = Grant
    lookup_url_kwarg = "grant_id"
    permission_module = "grants"
    serializer_class = GrantSerializer

    def narrow(self, queryset):
        params = self.request.query_params
        for name in ("user", "group", "resource"):
            if (found := id_param(self.request, name)) is not None:
                queryset = queryset.filter(**{f"{name}_id": found})
        if params.get("module"):
            queryset = queryset.filter(module__key=params["module"])
        if flag_param(self.request, "active"):
            queryset = queryset.filter(revoked_at__isnull=True)
        return queryset.select_related("module")

    @extend_schema(
        parameters=[
            *(OpenApiParameter(n, int) for n in ("user", "group", "resource")),
            OpenApiParameter("module", str),
            OpenApiParameter("active", bool, description="Only live (not revoked) grants."),
        ],
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(responses={201: GrantSerializer, 202: PendingSerializer})
    def create(self, request):
        serializer = GrantSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        # The key must carry what it gives (as the actor must hold it: no escalation through a key).
        for act in data["actions"]:
            if not key_allows(request, data["module"].key, act):
                raise exceptions.PermissionDenied(_("The API key's scopes do not include what it would grant."))
        result = grant_services.grant(
            actor=request.user,
            module=data["module"],
            actions=data["actions"],
            reason=data.get("reason", ""),
            user=data.get("user"),
            group=data.get("group"),
            resource=data.get("resource"),
            expires_at=data.get("expires_at"),
            justification=data.get("justification", ""),
        )
        if isinstance(result, PendingChange):
            return accepted(result)
        return Response(GrantSerializer(result).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=RevokeSerializer, responses={200: GrantSerializer})
    @action(detail=True, methods=["post"], permission_action=Action.DELETE)
    def revoke(self, request, **kwargs):
        grant = self.get_object()
        body = RevokeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        grant = grant_services.revoke(grant, actor=request.user, reason=body.validated_data["reason"])
        return Response(GrantSerializer(grant).data)


class AuditEventSerializer(serializers.ModelSerializer):
    before = serializers.JSONField(read_only=True)
    after = serializers.JSONField(read_only=True)
    reason = serializers.CharField(read_only=True)
    actor_label = serializers.CharField(read_only=True)
    target_label = serializers.CharField(read_only=True)
    request_id = serializers.CharField(read_only=True)

    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "seq",
            "event_type",
            "occurred_at",
            "actor_id",
            "actor_label",
            "target_type",
            "target_id",
            "target_label",
            "before",
            "after",
            "reason",
            "request_id",
            "chain_hash",
        ]
        read_only_fields = fields


class AuditEventViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """The tenant's audit trail (audit: view), filtered by type, actor, target and time."""

    model = AuditEvent
    lookup_url_kwarg = "event_id"
    permission_module = "audit"
    serializer_class = AuditEventSerializer
    cursor_ordering = "seq"

    def narrow(self, queryset):
        params = self.request.query_params
        if params.get("event_type"):
            queryset = queryset.filter(event_type=params["event_type"])
        if (actor := id_param(self.request, "actor")) is not None:
            queryset = queryset.filter(actor_id=actor)
        if params.get("target_type"):
            queryset = queryset.filter(target_type=params["target_type"])
        if params.get("target_id"):
            queryset = queryset.filter(target_id=params["target_id"])
        for name, lookup in (("since", "occurred_at__gte"), ("until", "occurred_at__lt")):
            if params.get(name):
                try:  # in UTC: PostgreSQL refuses offsets beyond ±15:59 that Python parses (a 500 before)
                    when = parse_datetime(params[name])
                    when = when.astimezone(UTC) if when is not None and when.tzinfo is not None else None
                except (ValueError, OverflowError):
                    when = None
                if when is None:
                    raise exceptions.ValidationError({name: [_("An ISO 8601 time with its offset.")]})
                queryset = queryset.filter(**{lookup: when})
        return queryset

    @extend_schema(
        parameters=[
            OpenApiParameter("actor", int),
            *(OpenApiParameter(n, str) for n in ("event_type", "target_type", "target_id")),
            *(OpenApiParameter(n, OpenApiTypes.DATETIME) for n in ("since", "until")),
        ]
    )
    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        personal = clear_values(page)  # one query for the page's personal values
        for event in page:
            event.set_personal(personal.get(event.seq, {}))
        return self.get_paginated_response(AuditEventSerializer(page, many=True).data)


class CheckpointSerializer(serializers.ModelSerializer):
    class Meta:
        model = Checkpoint
        fields = ["id", "index", "tree_size", "root_hash", "created_at", "key_id", "note", "signature"]
        read_only_fields = fields


class CheckpointViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """Signed checkpoints of the tenant's audit trail (audit: view)."""

    model = Checkpoint
    lookup_url_kwarg = "checkpoint_id"
    permission_module = "audit"
    serializer_class = CheckpointSerializer


__all__ = ["AuditEventViewSet", "CheckpointViewSet", "GrantViewSet", "inline_serializer"]
