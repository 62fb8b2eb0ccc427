"""Access requests: read (own, decidable, or all for their administrators), submit, approve, deny, cancel.

Everything goes through ``accessrequests.services`` (the same rules and audit events as the portal):
nobody approves their own request, a system-module request needs two different approvers, an
approver gives at most what they hold and for at most what was asked. Approving a system-module
request needs a fresh MFA check, which an API key cannot show: those approvals are refused to keys
and to sessions without a recent verification (403 ``step_up_required``).
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from accessrequests import rules, services
from accessrequests.models import AccessRequest
from accounts.stepup import mfa_is_recent
from api.base import TenantViewSet
from api.input import choice_param, flag_param, id_param
from api.permissions import PerActionPermission, key_of
from api.views.people import TenantSlugField, tenant_field
from permissions.models import Grant, Module, Resource
from permissions.vocabulary import Action, actions_of


class AccessRequestSerializer(serializers.ModelSerializer):
    module = serializers.SlugRelatedField(slug_field="key", read_only=True)
    requester_email = serializers.EmailField(source="requester.email", read_only=True)
    actions = serializers.SerializerMethodField()
    system = serializers.BooleanField(source="is_system", read_only=True)

    class Meta:
        model = AccessRequest
        fields = [
            "id",
            "requester",
            "requester_email",
            "module",
            "resource",
            "actions",
            "reason",
            "duration_days",
            "extends",
            "status",
            "system",
            "created_at",
            "pending_until",
            "first_approver",
            "first_approved_at",
            "decided_by",
            "decided_at",
            "decision_reason",
            "granted_days",
            "grant",
        ]
        read_only_fields = fields

    def get_actions(self, request) -> list[str]:
        return [a.value for a in actions_of(request.actions)]


class SubmitSerializer(serializers.Serializer):
    module = TenantSlugField(Module, slug_field="key")
    resource = tenant_field(Resource, required=False, allow_null=True)
    actions = serializers.ListField(child=serializers.ChoiceField(Action.choices), min_length=1)
    reason = serializers.CharField(max_length=services.MAX_REASON)
    duration_days = serializers.IntegerField(
        required=False, min_value=1, help_text="Days; default two weeks (or the tenant's maximum when shorter)."
    )
    extends = tenant_field(Grant, required=False, allow_null=True, help_text="A live grant of yours to prolong.")


class ApproveSerializer(serializers.Serializer):
    days = serializers.IntegerField(required=False, min_value=1, help_text="Days, at most what was asked (default).")
    reason = serializers.CharField(required=False, allow_blank=True, max_length=services.MAX_REASON)


class DenySerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=services.MAX_REASON)


FILTERS = [
    OpenApiParameter("status", str, enum=AccessRequest.Status.values),
    OpenApiParameter("module", str),
    OpenApiParameter("requester", int),
    OpenApiParameter("mine", bool, description="Only my own requests."),
    OpenApiParameter("decidable", bool, description="Only the pending requests I may decide (my approval queue)."),
]


class AccessRequestViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """Access requests the caller may read. POST submits one for the caller; POST …/approve, …/deny
    decide it (approvers), POST …/cancel withdraws it (its requester)."""

    model = AccessRequest
    lookup_url_kwarg = "request_id"
    permission_module = "requests"
    permission_classes = [PerActionPermission]
    # Anyone may ask for access and follow their own requests, as in the portal: the key must name
    # the action, and the services decide who may decide what.
    rights = {
        "list": (Action.VIEW,),
        "retrieve": (Action.VIEW,),
        "create": (Action.CREATE,),
        "cancel": (Action.CREATE,),
        "approve": (Action.APPROVE,),
        "deny": (Action.APPROVE,),
    }
    rights_need_engine = False
    serializer_class = AccessRequestSerializer

    def narrow(self, queryset):
        user, params = self.request.user, self.request.query_params
        queryset = rules.readable(user, queryset)
        if flag_param(self.request, "decidable"):
            queryset = rules.decidable(user, queryset)
        if flag_param(self.request, "mine"):
            queryset = queryset.filter(requester=user)
        if (state := choice_param(self.request, "status", AccessRequest.Status.values)) is not None:
            queryset = queryset.filter(status=state)
        if params.get("module"):
            queryset = queryset.filter(module__key=params["module"])
        if (requester := id_param(self.request, "requester")) is not None:
            queryset = queryset.filter(requester_id=requester)
        return queryset.select_related("module", "requester")

    @extend_schema(parameters=FILTERS)
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=SubmitSerializer, responses={201: AccessRequestSerializer})
    def create(self, request):
        body = SubmitSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        resource = data.get("resource")
        if resource is not None and resource.module_id != data["module"].pk:
            raise exceptions.ValidationError({"resource": [_("The resource is not in that module.")]})
        created = services.submit(
            actor=request.user,
            module=data["module"],
            resource=resource,
            actions=data["actions"],
            reason=data["reason"],
            duration_days=data.get("duration_days") or rules.default_duration(request.tenant),
            extends=data.get("extends"),
        )
        return Response(self._shown(created), status=status.HTTP_201_CREATED)

    @extend_schema(request=ApproveSerializer, responses={200: AccessRequestSerializer})
    @action(detail=True, methods=["post"])
    def approve(self, request, **kwargs):
        """Approve (a system-module request: the first approval is recorded and a second approver completes it)."""
        found = self.get_object()
        body = ApproveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        stepped_up = key_of(request) is None and mfa_is_recent(request._request)
        if found.is_system and rules.is_approver(request.user, found) and not stepped_up:
            raise exceptions.PermissionDenied(
                _("Approving a request for console rights needs a fresh MFA check: approve it in the portal."),
                code="step_up_required",
            )
        done = services.approve(
            found,
            actor=request.user,
            days=body.validated_data.get("days"),
            reason=body.validated_data.get("reason", ""),
        )
        return Response(self._shown(done))

    @extend_schema(request=DenySerializer, responses={200: AccessRequestSerializer})
    @action(detail=True, methods=["post"])
    def deny(self, request, **kwargs):
        """Deny, with a reason the requester reads."""
        found = self.get_object()
        body = DenySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return Response(self._shown(services.deny(found, actor=request.user, reason=body.validated_data["reason"])))

    @extend_schema(request=None, responses={200: AccessRequestSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, **kwargs):
        """The requester withdraws their pending request."""
        return Response(self._shown(services.cancel(self.get_object(), actor=request.user)))

    @staticmethod
    def _shown(request_row: AccessRequest) -> dict:
        fresh = AccessRequest.objects.select_related("module", "requester").get(pk=request_row.pk)
        return AccessRequestSerializer(fresh).data
