"""Organisations and sharing rules: reads filtered by tenant, writes through the permission services
(``permissions.services.organisations``, ``permissions.services.sharing_rules``)."""

from __future__ import annotations

from django.db import transaction
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.organisations import Organisation
from api.base import TenantViewSet
from api.views.people import TenantSlugField, tenant_field
from permissions.models import Module, Role, SharingRule
from permissions.services import organisations as org_services
from permissions.services import sharing_rules as rule_services
from permissions.services.preview import preview_rule
from permissions.vocabulary import BUSINESS_ACTIONS, Action, actions_of


class OrganisationSerializer(serializers.ModelSerializer):
    parent = tenant_field(Organisation, required=False, allow_null=True)
    external_id = serializers.CharField(max_length=200, required=False, allow_blank=True, allow_null=True)

    class Meta:
        model = Organisation
        fields = ["id", "name", "external_id", "status", "parent", "created_at"]
        read_only_fields = ["id", "created_at"]


class OrganisationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """Customer organisations (groups: view to read; create / change to write)."""

    model = Organisation
    lookup_url_kwarg = "organisation_id"
    permission_module = "groups"
    serializer_class = OrganisationSerializer
    http_method_names = ["get", "post", "patch", "head", "options"]

    def create(self, request):
        serializer = OrganisationSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        org = org_services.create_organisation(
            actor=request.user,
            tenant=request.tenant,
            name=data.get("name", ""),
            external_id=data.get("external_id") or "",
            parent=data.get("parent"),
        )
        return Response(OrganisationSerializer(org).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, **kwargs):
        org = self.get_object()
        serializer = OrganisationSerializer(org, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        with transaction.atomic():
            if "name" in data or "external_id" in data:
                org = org_services.rename_organisation(
                    org,
                    actor=request.user,
                    name=data.get("name", org.name),
                    external_id=data.get("external_id", org.external_id) or "",
                )
            if "status" in data:
                org = org_services.set_organisation_status(org, actor=request.user, status=data["status"], reason="API")
            if "parent" in data:
                org = org_services.reparent_organisation(org, actor=request.user, parent=data["parent"])
        return Response(OrganisationSerializer(Organisation.objects.get(pk=org.pk)).data)


class ActionsField(serializers.ListField):
    """Actions of the vocabulary in, a bitmask's actions out."""

    def to_representation(self, mask):
        return [a.value for a in actions_of(mask)]


class SharingRuleSerializer(serializers.ModelSerializer):
    module = TenantSlugField(Module, slug_field="key")
    actions = ActionsField(child=serializers.ChoiceField([a.value for a in BUSINESS_ACTIONS]), min_length=1)
    organisation = tenant_field(Organisation, required=False, allow_null=True)
    target_organisation = tenant_field(Organisation, required=False, allow_null=True)
    role = tenant_field(Role, required=False, allow_null=True)

    class Meta:
        model = SharingRule
        fields = [
            "id",
            "name",
            "kind",
            "module",
            "actions",
            "include_children",
            "organisation",
            "target_organisation",
            "role",
            "attribute_key",
            "attribute_value",
            "expires_at",
            "reason",
            "created_at",
        ]
        read_only_fields = ["id", "created_at"]


ImpactSerializer = inline_serializer(
    "SharingImpact",
    {
        "gain": serializers.DictField(child=serializers.ListField(child=serializers.CharField())),
        "lose": serializers.DictField(child=serializers.ListField(child=serializers.CharField())),
    },
)


def impact_data(impact) -> dict:
    """Who gains and who loses, by e-mail, with what (module: n records · action)."""
    return {
        "gain": {u.email: [str(c) for c in changes] for u, changes in sorted(impact.gained.items(), key=_email)},
        "lose": {u.email: [str(c) for c in changes] for u, changes in sorted(impact.lost.items(), key=_email)},
    }


def _email(item):
    return item[0].email


class SharingRuleViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """Sharing rules (grants: view to read; create to add, after a preview; delete to remove)."""

    model = SharingRule
    lookup_url_kwarg = "rule_id"
    permission_module = "grants"
    serializer_class = SharingRuleSerializer
    http_method_names = ["get", "post", "delete", "head", "options"]

    def narrow(self, queryset):
        return queryset.select_related("module")

    def _build(self, request) -> SharingRule:
        serializer = SharingRuleSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        return rule_services.build_rule(tenant=request.tenant, created_by=request.user, **data)

    def create(self, request):
        rule = rule_services.create_rule(self._build(request), actor=request.user)
        return Response(SharingRuleSerializer(rule).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=SharingRuleSerializer, responses={200: ImpactSerializer})
    @action(detail=False, methods=["post"], url_path="preview", permission_action=Action.CREATE)
    def preview(self, request):
        """Who would gain what if this rule were created (nothing is saved)."""
        return Response(impact_data(preview_rule(self._build(request))))

    @extend_schema(responses={200: ImpactSerializer})
    @action(detail=True, methods=["get"], url_path="preview-delete", permission_action=Action.DELETE)
    def preview_delete(self, request, **kwargs):
        """Who would lose what if this rule were deleted (nothing is changed)."""
        return Response(impact_data(preview_rule(self.get_object(), deleting=True)))

    def destroy(self, request, **kwargs):
        rule_services.delete_rule(self.get_object(), actor=request.user, reason="API")
        return Response(status=status.HTTP_204_NO_CONTENT)
