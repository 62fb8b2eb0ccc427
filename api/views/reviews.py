"""Review campaigns (read, with progress) and review items (read, decide, reassign).

Holders of reviews: view read every campaign and item; reviewers (reviews: review) read the items
assigned to them and decide them through ``reviews.services.decisions`` (the same rules and audit
events as "My reviews": only the assigned reviewer decides, never on their own access, while the
campaign is open, with the justification the policy asks for).
"""

from __future__ import annotations

from django.db.models import Q
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, inline_serializer
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.models import User
from api.base import TenantViewSet
from api.input import choice_param, flag_param, id_param
from api.permissions import PerActionPermission, allowed_any
from api.views.people import tenant_field
from permissions.models import Role
from permissions.vocabulary import Action
from reviews import presenting
from reviews.models import Decision, ReviewCampaign, ReviewItem
from reviews.models.items import FinalSource
from reviews.services import campaigns, decisions


class CampaignSerializer(serializers.ModelSerializer):
    policy_name = serializers.CharField(source="policy.name", read_only=True)

    class Meta:
        model = ReviewCampaign
        fields = [
            "id",
            "policy",
            "policy_name",
            "name",
            "period_start",
            "opens_at",
            "due_at",
            "state",
            "opened_at",
            "closed_at",
            "applied_at",
            "cancelled_at",
            "item_count",
            "opening_checkpoint",
            "closing_checkpoint",
        ]
        read_only_fields = fields


ProgressSerializer = inline_serializer(
    "CampaignProgress",
    {
        "total": serializers.IntegerField(),
        "decided": serializers.IntegerField(),
        "by_decision": serializers.DictField(child=serializers.IntegerField()),
        "applied": serializers.DictField(child=serializers.IntegerField()),
        "reviewers": serializers.ListField(
            child=inline_serializer(
                "ReviewerProgress",
                {
                    "reviewer_id": serializers.IntegerField(),
                    "reviewer__email": serializers.EmailField(),
                    "total": serializers.IntegerField(),
                    "done": serializers.IntegerField(),
                },
            )
        ),
    },
)


class CampaignDetailSerializer(CampaignSerializer):
    progress = serializers.SerializerMethodField()

    class Meta(CampaignSerializer.Meta):
        fields = [*CampaignSerializer.Meta.fields, "progress"]
        read_only_fields = fields

    @extend_schema_field(ProgressSerializer)
    def get_progress(self, campaign) -> dict:
        return campaigns.progress(campaign)


class CampaignViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """The tenant's review campaigns, newest first (reviews: view); one campaign with its progress."""

    model = ReviewCampaign
    lookup_url_kwarg = "campaign_id"
    permission_module = "reviews"
    cursor_ordering = "-id"

    def get_serializer_class(self):
        return CampaignDetailSerializer if self.action == "retrieve" else CampaignSerializer

    def narrow(self, queryset):
        state = choice_param(self.request, "state", ReviewCampaign.State.values)
        if state:
            queryset = queryset.filter(state=state)
        return queryset.select_related("policy")

    @extend_schema(parameters=[OpenApiParameter("state", str, enum=ReviewCampaign.State.values)])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)


class ReasonSerializer(serializers.Serializer):
    code = serializers.CharField()
    params = serializers.DictField()
    text = serializers.CharField(help_text="The reason in the reader's language.")


class _NullUntilSet(serializers.ChoiceField):
    """A choice column that is blank until it is set: answered as null, never "" (outside its enum)."""

    def __init__(self, choices, **kwargs):
        super().__init__(choices, read_only=True, allow_null=True, **kwargs)

    def to_representation(self, value):
        return None if value in ("", None) else super().to_representation(value)


class ItemSerializer(serializers.ModelSerializer):
    final_decision = _NullUntilSet(Decision.choices, help_text="null until the campaign closes.")
    final_source = _NullUntilSet(FinalSource.choices, help_text="null until the campaign closes.")
    user_email = serializers.EmailField(source="user.email", read_only=True, allow_null=True)  # None: shared access
    access = serializers.SerializerMethodField(help_text="The access under review, as it was at opening.")
    reasons = serializers.SerializerMethodField()
    changed_since_opening = serializers.SerializerMethodField(
        help_text="What changed on the access since the campaign opened (null: nothing)."
    )

    class Meta:
        model = ReviewItem
        fields = [
            "id",
            "campaign",
            "kind",
            "user",
            "user_email",
            "role",
            "grant",
            "access",
            "snapshot",
            "evidence",
            "flagged",
            "unused",
            "recommendation",
            "reasons",
            "changed_since_opening",
            "reviewer",
            "routed",
            "decision",
            "justification",
            "reduce_expires_at",
            "reduce_role",
            "decided_by",
            "decided_at",
            "decided_in_bulk",
            "final_decision",
            "final_source",
            "applied_at",
            "apply_result",
            "apply_detail",
        ]
        read_only_fields = fields

    def get_access(self, item) -> str:
        if "names" not in self.context:  # one lookup of module and role names for the whole answer
            self.context["names"] = presenting.Names()
        return presenting.access_text(item, self.context["names"])

    @extend_schema_field(ReasonSerializer(many=True))
    def get_reasons(self, item) -> list[dict]:
        return [
            {"code": code, "params": params, "text": presenting.reason_text(code, params)}
            for code, params in item.reasons
        ]

    def get_changed_since_opening(self, item) -> str | None:
        changes = self.context.get("changes")
        if changes is None:
            changes = presenting.changes_since_opening([item])
        return changes.get(item.pk)


#: What a reviewer may decide (``pending`` is where an item starts, not a decision).
VERDICTS = [(d.value, d.label) for d in (Decision.KEEP, Decision.REVOKE, Decision.REDUCE)]


class DecideSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(VERDICTS)
    justification = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    reduce_expires_at = serializers.DateTimeField(
        required=False, allow_null=True, help_text="reduce, on a grant: the new, earlier expiry."
    )
    reduce_role = tenant_field(Role, required=False, allow_null=True, help_text="reduce, on a role: a lesser role.")


class ReassignSerializer(serializers.Serializer):
    to = tenant_field(User, help_text="The reviewer who takes the item over.")
    reason = serializers.CharField(max_length=2000)


class ReviewItemViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """Review items: every item for holders of reviews: view, the caller's assigned items for reviewers.
    POST …/decide records the assigned reviewer's decision; POST …/reassign hands the item over."""

    model = ReviewItem
    lookup_url_kwarg = "item_id"
    permission_module = "reviews"
    permission_classes = [PerActionPermission]
    rights = {
        "list": (Action.VIEW, Action.REVIEW),
        "retrieve": (Action.VIEW, Action.REVIEW),
        "decide": (Action.REVIEW,),
        "reassign": (Action.REVIEW, Action.CHANGE),
    }
    serializer_class = ItemSerializer

    def narrow(self, queryset):
        request = self.request
        allowed = allowed_any(request, "reviews", (Action.VIEW, Action.REVIEW))
        if Action.VIEW not in allowed:  # a reviewer: the items assigned to them, nothing else
            queryset = queryset.filter(reviewer=request.user) if Action.REVIEW in allowed else queryset.none()
        if (campaign := id_param(request, "campaign")) is not None:
            queryset = queryset.filter(campaign_id=campaign)
        if flag_param(request, "mine"):
            queryset = queryset.filter(reviewer=request.user)
        if (decision := choice_param(request, "decision", Decision.values)) is not None:
            queryset = queryset.filter(decision=decision)
        if flag_param(request, "flagged"):
            queryset = queryset.filter(Q(flagged=True) | Q(unused=True))
        if (user := id_param(request, "user")) is not None:
            queryset = queryset.filter(user_id=user)
        return queryset.select_related("user")

    @extend_schema(
        parameters=[
            OpenApiParameter("campaign", int),
            OpenApiParameter("mine", bool, description="Only the items assigned to me."),
            OpenApiParameter("decision", str, enum=Decision.values),
            OpenApiParameter("flagged", bool, description="Only flagged or unused access."),
            OpenApiParameter("user", int, description="Only the access of this user."),
        ]
    )
    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        context = {"changes": presenting.changes_since_opening(page)}  # one query for the page's grants
        return self.get_paginated_response(ItemSerializer(page, many=True, context=context).data)

    @extend_schema(request=DecideSerializer, responses={200: ItemSerializer})
    @action(detail=True, methods=["post"])
    def decide(self, request, **kwargs):
        """Keep, revoke or reduce (changeable until the campaign closes)."""
        item = self.get_object()
        body = DecideSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        decisions.decide(
            item,
            actor=request.user,
            decision=data["decision"],
            justification=data.get("justification", ""),
            reduce_expires_at=data.get("reduce_expires_at"),
            reduce_role=data.get("reduce_role"),
        )
        return Response(self._shown(item))

    @extend_schema(request=ReassignSerializer, responses={200: ItemSerializer})
    @action(detail=True, methods=["post"])
    def reassign(self, request, **kwargs):
        """Hand the item to another reviewer (its reviewer, or a holder of reviews: change)."""
        item = self.get_object()
        body = ReassignSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        decisions.reassign(item, actor=request.user, to=body.validated_data["to"], reason=body.validated_data["reason"])
        return Response(self._shown(item))

    @staticmethod
    def _shown(item: ReviewItem) -> dict:
        return ItemSerializer(ReviewItem.objects.select_related("user").get(pk=item.pk)).data
