"""Separation-of-duties rules and the violations that exist now: reads filtered by tenant, writes through
``permissions.services.sod_rules``."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.response import Response

from accounts.models import User
from api.base import TenantAPIView, TenantViewSet
from api.permissions import ModulePermission
from api.views.organisations import ActionsField
from api.views.people import TenantSlugField, tenant_field
from permissions import sod
from permissions.models import Module, Role, SodRule
from permissions.services import sod_rules as rule_services
from permissions.vocabulary import Action


class SodRuleSerializer(serializers.ModelSerializer):
    first_role = tenant_field(Role, required=False, allow_null=True)
    first_module = TenantSlugField(Module, slug_field="key", required=False, allow_null=True)
    first_actions = ActionsField(child=serializers.ChoiceField(Action.choices), required=False)
    second_role = tenant_field(Role, required=False, allow_null=True)
    second_module = TenantSlugField(Module, slug_field="key", required=False, allow_null=True)
    second_actions = ActionsField(child=serializers.ChoiceField(Action.choices), required=False)

    class Meta:
        model = SodRule
        fields = [
            "id",
            "name",
            "severity",
            "reason",
            "allow_exceptions",
            "first_role",
            "first_module",
            "first_actions",
            "second_role",
            "second_module",
            "second_actions",
            "created_at",
        ]
        read_only_fields = ["id", "created_at"]


class SodRuleViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """Separation-of-duties rules (grants: view to read; create to add; delete to remove)."""

    model = SodRule
    lookup_url_kwarg = "sod_rule_id"
    permission_module = "grants"
    serializer_class = SodRuleSerializer
    http_method_names = ["get", "post", "delete", "head", "options"]

    def narrow(self, queryset):
        return queryset.select_related("first_module", "second_module")

    def create(self, request):
        serializer = SodRuleSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        rule = rule_services.create_rule(actor=request.user, tenant=request.tenant, **serializer.validated_data)
        return Response(SodRuleSerializer(rule).data, status=status.HTTP_201_CREATED)

    def destroy(self, request, **kwargs):
        rule_services.delete_rule(self.get_object(), actor=request.user, reason="API")
        return Response(status=status.HTTP_204_NO_CONTENT)


class ViolationSerializer(serializers.Serializer):
    user = serializers.IntegerField()
    email = serializers.EmailField()
    rule = serializers.IntegerField()
    name = serializers.CharField()
    severity = serializers.CharField()
    reason = serializers.CharField()
    exception = serializers.DictField(allow_null=True)


class SodViolationsView(TenantAPIView):
    """Active users who hold both sides of a rule now, with the exception that allows it (grants: view)."""

    permission_classes = [ModulePermission]
    permission_module = "grants"
    permission_action = Action.VIEW

    @extend_schema(responses={200: ViolationSerializer(many=True)}, summary="Separation-of-duties violations now")
    def get(self, request):
        found = sod.tenant_violations(request.tenant.pk)
        emails = dict(User.objects.filter(pk__in={v.user_id for v in found}).values_list("pk", "email"))
        rows = [
            {
                "user": v.user_id,
                "email": emails[v.user_id],
                "rule": v.rule.pk,
                "name": v.rule.name,
                "severity": v.rule.severity,
                "reason": v.rule.reason,
                "exception": (
                    {"justification": v.exception.justification, "approved_at": v.exception.created_at.isoformat()}
                    if v.exception
                    else None
                ),
            }
            for v in sorted(found, key=lambda v: (v.rule.name, v.user_id))
        ]
        return Response(rows)
