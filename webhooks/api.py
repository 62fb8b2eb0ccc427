"""/api/v1/webhooks: the same services as the console (settings: view to read, settings: change to change)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from api.base import TenantViewSet
from api.permissions import SAFE, may
from permissions.vocabulary import Action, SystemModule
from webhooks import services
from webhooks.models import Attempt, Delivery, Subscription
from webhooks.vocabulary import WebhookEventType


class SettingsPermission(BasePermission):
    """settings: view for reads, settings: change for every write (engine and API key scopes)."""

    def has_permission(self, request, view) -> bool:
        needed = Action.VIEW if request.method in SAFE else Action.CHANGE
        return may(request, needed, SystemModule.SETTINGS.value)


class SubscriptionSerializer(serializers.ModelSerializer):
    event_types = serializers.ListField(child=serializers.ChoiceField(WebhookEventType.choices), min_length=1)

    class Meta:
        model = Subscription
        fields = ["id", "name", "url", "event_types", "is_active", "disabled_at", "disabled_reason", "created_at"]
        read_only_fields = ["id", "disabled_at", "disabled_reason", "created_at"]
        extra_kwargs = {"url": {"validators": []}}  # the services check URLs (https, public addresses)


class CreatedSerializer(SubscriptionSerializer):
    secret = serializers.SerializerMethodField()

    class Meta(SubscriptionSerializer.Meta):
        fields = [*SubscriptionSerializer.Meta.fields, "secret"]

    def get_secret(self, subscription) -> str:
        return self.context["secret"]


class AttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = Attempt
        fields = ["attempted_at", "status_code", "duration_ms", "error"]


class DeliverySerializer(serializers.ModelSerializer):
    event_type = serializers.CharField(source="event.event_type")
    message_id = serializers.CharField(source="event.message_id")
    log = AttemptSerializer(many=True)

    class Meta:
        model = Delivery
        fields = [
            "id",
            "event_type",
            "message_id",
            "resource_key",
            "status",
            "attempts",
            "next_attempt_at",
            "last_status_code",
            "delivered_at",
            "manual",
            "created_at",
            "log",
        ]


SECRET = inline_serializer("WebhookSecret", {"id": serializers.IntegerField(), "secret": serializers.CharField()})


class SubscriptionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, TenantViewSet):
    """Webhook subscriptions of the tenant; POST answers the new secret once, as rotate-secret does."""

    model = Subscription
    lookup_url_kwarg = "subscription_id"
    permission_module = SystemModule.SETTINGS.value
    permission_classes = [SettingsPermission]
    serializer_class = SubscriptionSerializer
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def http_method_not_allowed(self, request, *args, **kwargs):
        if "delivery_id" in self.kwargs:
            self._delivery()  # a foreign or missing delivery is 404 whatever the method (AZ-1)
        return super().http_method_not_allowed(request, *args, **kwargs)

    def _delivery(self) -> Delivery:
        subscription = self.get_object()
        found = subscription.deliveries.filter(pk=self.kwargs["delivery_id"]).select_related("event").first()
        if found is None:
            raise exceptions.NotFound()
        return found

    @extend_schema(responses={201: CreatedSerializer})
    def create(self, request):
        serializer = SubscriptionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        made = services.create_subscription(
            actor=request.user,
            tenant=request.tenant,
            name=data["name"],
            url=data["url"],
            event_types=data["event_types"],
        )
        body = CreatedSerializer(made.subscription, context={"secret": made.secret}).data
        return Response(body, status=status.HTTP_201_CREATED)

    def partial_update(self, request, **kwargs):
        subscription = self.get_object()
        serializer = SubscriptionSerializer(subscription, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        values = {f: getattr(subscription, f) for f in ("name", "url", "event_types", "is_active")}
        values.update(serializer.validated_data)
        changed = services.update_subscription(subscription, actor=request.user, **values)
        return Response(SubscriptionSerializer(changed).data)

    def destroy(self, request, **kwargs):
        services.delete_subscription(self.get_object(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses={200: SECRET})
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, **kwargs):
        _no_body(request)
        made = services.rotate_secret(self.get_object(), actor=request.user)
        return Response({"id": made.subscription.pk, "secret": made.secret})

    @extend_schema(responses={200: DeliverySerializer(many=True)})
    @action(detail=True, methods=["get"])
    def deliveries(self, request, **kwargs):
        rows = self.get_object().deliveries.select_related("event").prefetch_related("log").order_by("-id")
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(DeliverySerializer(page, many=True).data)

    @extend_schema(request=None, responses={202: DeliverySerializer})
    @action(detail=True, methods=["post"], url_path=r"deliveries/(?P<delivery_id>[0-9]{1,18})/redeliver")
    def redeliver(self, request, **kwargs):
        _no_body(request)
        again = services.redeliver(self._delivery(), actor=request.user)
        return Response(DeliverySerializer(again).data, status=status.HTTP_202_ACCEPTED)


def _no_body(request) -> None:
    """These actions take no input: a body is parsed (the strict parser refuses a malformed one) and must be
    empty or ``{}``, so bad input is a 400 that changes nothing, never silently ignored."""
    if not request.body:
        return
    if (request.content_type or "").startswith("multipart/form-data") and not request._request.POST:
        return  # an empty form (what a bare POST of some clients sends)
    data = request.data
    if data not in (None, {}, "") and not (hasattr(data, "dict") and not data):
        raise exceptions.ValidationError({"non_field_errors": [_("This action takes no body.")]})
