"""Modules and resources. Resources are answered per object by the engine (engine.visible), and
registered or updated by external id, in bulk, through the module services."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.models import User
from accounts.organisations import Organisation
from api.base import TenantViewSet
from api.permissions import ObjectLevel, key_of, may
from api.views.people import TenantSlugField, tenant_field
from permissions import engine
from permissions.models import Module, Resource
from permissions.sensitive import MASK, visible_attributes
from permissions.services import modules as module_services
from permissions.services.checks import require
from permissions.services.organisations import set_resource_organisation
from permissions.vocabulary import BUSINESS_ACTIONS, Action, actions_of

MAX_BULK = 500


class ModuleSerializer(serializers.ModelSerializer):
    actions = serializers.ListField(child=serializers.ChoiceField(Action.choices), required=False, write_only=True)
    sensitive_attributes = serializers.ListField(child=serializers.CharField(max_length=100), required=False)
    owners = tenant_field(User, many=True, required=False, help_text="Users who approve requests for it.")

    class Meta:
        model = Module
        fields = ["id", "key", "name", "kind", "actions", "sensitive_attributes", "owners"]
        read_only_fields = ["id", "kind"]
        extra_kwargs = {"key": {"required": False, "validators": []}}

    def to_representation(self, module):
        data = super().to_representation(module)
        data["actions"] = [a.value for a in actions_of(module.actions)]
        data["name"] = str(module.display_name)
        return data


class ModuleViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """The tenant's modules (modules: view); custom modules are created, and any module's name (custom),
    sensitive attributes and owners changed (PATCH, modules: change), through the module services."""

    model = Module
    lookup_url_kwarg = "module_id"
    permission_module = "modules"
    serializer_class = ModuleSerializer
    http_method_names = ["get", "post", "patch", "head", "options"]

    def narrow(self, queryset):
        return queryset.prefetch_related("owners")

    @extend_schema(request=ModuleSerializer, responses={200: ModuleSerializer})
    def partial_update(self, request, **kwargs):
        module = self.get_object()
        serializer = ModuleSerializer(module, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if "key" in data and data["key"] != module.key or "actions" in data:
            raise exceptions.ValidationError({"non_field_errors": [_("A module's key and actions are fixed.")]})
        module_services.update_module(
            module,
            actor=request.user,
            name=data.get("name"),
            sensitive_attributes=data.get("sensitive_attributes"),
            owners=data.get("owners"),
        )
        return Response(ModuleSerializer(Module.objects.prefetch_related("owners").get(pk=module.pk)).data)

    def create(self, request):
        serializer = ModuleSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        module = module_services.create_module(
            actor=request.user,
            tenant=request.tenant,
            name=data["name"],
            key=data.get("key", ""),
            actions=data.get("actions") or BUSINESS_ACTIONS,
            sensitive_attributes=data.get("sensitive_attributes") or (),
        )
        return Response(ModuleSerializer(module).data, status=status.HTTP_201_CREATED)


class ResourceSerializer(serializers.ModelSerializer):
    module = TenantSlugField(Module, slug_field="key")
    attributes = serializers.DictField(required=False)
    owner_organisation = tenant_field(Organisation, required=False, allow_null=True)

    class Meta:
        model = Resource
        fields = [
            "id",
            "module",
            "title",
            "description",
            "attributes",
            "external_id",
            "owner",
            "owner_organisation",
            "updated_at",
        ]
        read_only_fields = ["id", "owner", "updated_at"]
        extra_kwargs = {"external_id": {"validators": []}}

    def to_representation(self, resource):
        data = super().to_representation(resource)
        request = self.context.get("request")
        if request is not None:
            data["attributes"] = attributes_for(request, resource)
        return data


def attributes_for(request, resource) -> dict:
    """AZ-9: sensitive values masked unless the user (and the key) may view them."""
    attributes = visible_attributes(request.user, resource)
    key = key_of(request)
    if key is not None and not key.allows(resource.module.key, Action.VIEW_SENSITIVE):
        names = set(resource.module.sensitive_attributes or ())
        attributes = {k: (MASK if k in names else v) for k, v in attributes.items()}
    return attributes


class BulkItem(serializers.Serializer):
    external_id = serializers.CharField(max_length=200)
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    attributes = serializers.DictField(required=False, default=dict)


class BulkRequest(serializers.Serializer):
    module = TenantSlugField(Module, slug_field="key")
    items = BulkItem(many=True, min_length=1, max_length=MAX_BULK)

    def validate_items(self, items):
        if not 1 <= len(items) <= MAX_BULK:
            raise serializers.ValidationError(_("Send 1 to 500 items."))
        if len({item["external_id"] for item in items}) != len(items):
            raise serializers.ValidationError(_("Each external id once."))
        return items


class ResourceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """Resources the caller may view (engine.visible); writes through create_resource/update_resource,
    which check create/change on the module or the object; the key's scopes are checked as well."""

    model = Resource
    lookup_url_kwarg = "resource_id"
    permission_classes = [ObjectLevel]
    authz = ("modules", Action.VIEW)  # declared for AZ-3; each row is then answered by the engine
    serializer_class = ResourceSerializer
    http_method_names = ["get", "post", "patch", "head", "options"]

    def narrow(self, queryset):
        key = key_of(self.request)
        if key is not None:
            readable = [module for module in key.scopes if key.allows(module, Action.VIEW)]
            queryset = queryset.filter(module__key__in=readable)
        module = self.request.query_params.get("module")
        if module:
            queryset = queryset.filter(module__key=module)
        external_id = self.request.query_params.get("external_id")
        if external_id:
            queryset = queryset.filter(external_id=external_id)
        return queryset.select_related("module").restrict(self.request.user, Action.VIEW)

    def _sees_sensitive(self, module) -> bool | None:
        """False when the key lacks view_sensitive on the module (the engine decides the rest)."""
        key = key_of(self.request)
        return None if key is None else key.allows(module.key, Action.VIEW_SENSITIVE)

    def _scoped(self, module_key: str, act: Action) -> None:
        key = key_of(self.request)
        if key is not None and not key.allows(module_key, act):
            raise exceptions.PermissionDenied()

    @extend_schema(
        parameters=[OpenApiParameter("module", str), OpenApiParameter("external_id", str)],
    )
    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        engine.prefetch(request.user, page)
        return self.get_paginated_response(ResourceSerializer(page, many=True, context={"request": request}).data)

    def create(self, request):
        serializer = ResourceSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        self._scoped(data["module"].key, Action.CREATE)
        with transaction.atomic():
            resource = module_services.create_resource(
                actor=request.user,
                module=data["module"],
                title=data["title"],
                description=data.get("description", ""),
                attributes=data.get("attributes") or {},
                external_id=data.get("external_id"),
            )
            if data.get("owner_organisation") is not None:
                org = data["owner_organisation"]
                resource = set_resource_organisation(resource, org, actor=request.user, reason="API")
        return Response(ResourceSerializer(resource, context={"request": request}).data, status.HTTP_201_CREATED)

    def partial_update(self, request, **kwargs):
        resource = self.get_object()
        serializer = ResourceSerializer(resource, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        changes = dict(serializer.validated_data)
        if "module" in changes and changes.pop("module").pk != resource.module_id:
            raise exceptions.ValidationError({"module": [_("A resource stays in its module.")]})
        self._scoped(resource.module.key, Action.CHANGE)
        with transaction.atomic():
            if "owner_organisation" in changes:
                org = changes.pop("owner_organisation")
                resource = set_resource_organisation(resource, org, actor=request.user, reason="API")
            if changes:
                resource = module_services.update_resource(
                    resource, actor=request.user, sensitive_visible=self._sees_sensitive(resource.module), **changes
                )
        return Response(ResourceSerializer(resource, context={"request": request}).data)

    @extend_schema(
        request=BulkRequest,
        responses={
            200: inline_serializer(
                "BulkResult",
                {
                    "created": serializers.ListField(child=serializers.IntegerField()),
                    "updated": serializers.ListField(child=serializers.IntegerField()),
                },
            )
        },
        summary="Register or update up to 500 resources of a module by external id (all or nothing)",
    )
    @action(detail=False, methods=["post"], url_path="bulk")
    def bulk(self, request):
        body = BulkRequest(data=request.data)
        body.is_valid(raise_exception=True)
        module = body.validated_data["module"]
        items = body.validated_data["items"]
        existing = {
            r.external_id: r
            for r in Resource.objects.filter(module=module, external_id__in=[i["external_id"] for i in items])
        }
        if existing:
            self._scoped(module.key, Action.CHANGE)
        if len(existing) < len(items):
            self._scoped(module.key, Action.CREATE)
        created, updated = [], []
        with transaction.atomic():
            for item in items:
                current = existing.get(item["external_id"])
                if current is None:
                    created.append(module_services.create_resource(actor=request.user, module=module, **item).pk)
                else:
                    # the service keeps hidden sensitive values and writes only what differs (FC-3)
                    changes = {f: item[f] for f in ("title", "description", "attributes")}
                    module_services.update_resource(
                        current, actor=request.user, sensitive_visible=self._sees_sensitive(module), **changes
                    )
                    updated.append(current.pk)
        return Response({"created": created, "updated": updated})


__all__ = ["ModuleViewSet", "ResourceViewSet", "may", "require"]
