"""Users, roles and groups: reads filtered by tenant, writes through accounts and permissions services."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import EmailValidator
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts import services as accounts_services
from accounts.models import User
from accounts.organisations import Organisation
from api.base import TenantViewSet
from api.errors import Conflict
from api.input import choice_param
from api.services import update_user
from permissions.models import BuiltinRole, Group, PendingChange, Role
from permissions.services import delegated as delegated_services
from permissions.services import groups as group_services
from permissions.services import organisations as org_services
from permissions.services import roles as role_services
from permissions.services.errors import AccessRefused, ErrorCode
from permissions.vocabulary import Action, actions_of


class TenantPrimaryKeyField(serializers.PrimaryKeyRelatedField):
    """A related id looked up among the request tenant's rows only, read at validation time inside the
    tenant scope (AZ-2: another tenant's id is "does not exist", exactly like a missing one)."""

    def __init__(self, model=None, **kwargs):
        self.model = model
        if not kwargs.get("read_only"):
            kwargs["queryset"] = model._base_manager.none()  # a placeholder; get_queryset reads the scope
        super().__init__(**kwargs)

    def get_queryset(self):
        return self.model.objects.all()


class TenantSlugField(serializers.SlugRelatedField):
    """A related row named by a slug (a module key), among the request tenant's rows only (AZ-2)."""

    def __init__(self, model=None, **kwargs):
        self.model = model
        kwargs["queryset"] = model._base_manager.none()
        super().__init__(**kwargs)

    def get_queryset(self):
        return self.model.objects.all()


def tenant_field(model, **kwargs):
    """A related-id field whose choices are the tenant's rows only."""
    return TenantPrimaryKeyField(model, **kwargs)


class PendingSerializer(serializers.Serializer):
    pending_change = serializers.IntegerField(source="pk")
    status = serializers.CharField()
    summary = serializers.CharField()


def accepted(change: PendingChange) -> Response:
    """202: the change waits for a second administrator's approval."""
    return Response(PendingSerializer(change).data, status=status.HTTP_202_ACCEPTED)


class UserSerializer(serializers.ModelSerializer):
    role = tenant_field(Role, required=False)
    organisation = tenant_field(Organisation, required=False, allow_null=True)
    groups = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["id", "email", "full_name", "role", "organisation", "is_active", "date_joined", "groups"]
        read_only_fields = ["id", "date_joined", "groups"]

    def get_groups(self, user) -> list[int]:
        return sorted(m.group_id for m in user.memberships.all())

    def validate_email(self, value: str) -> str:
        """The address as it will be stored (normalised, lower case), valid and within its column after
        lower-casing too ("İ" lower-cases to two characters); a differently-cased taken address is taken.
        Unique per tenant (INS-7): only this tenant's users are looked at (the request's scope), so another
        tenant's address is taken like a fresh one and nothing is said about it."""
        stored = User.objects.normalize_email(value).lower()
        try:
            EmailValidator()(stored)
        except DjangoValidationError:
            raise serializers.ValidationError(_("Enter a valid e-mail address.")) from None
        if len(stored) > User._meta.get_field("email").max_length:
            raise serializers.ValidationError(_("The address is too long."))
        others = User.objects.exclude(pk=self.instance.pk) if self.instance is not None else User.objects.all()
        if others.filter(email=stored).exists():
            raise serializers.ValidationError(_("A user with this e-mail address already exists."), code="unique")
        return stored


class UserViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin, mixins.DestroyModelMixin, TenantViewSet
):
    """Users of the tenant. POST invites (inactive until the invitation is accepted); DELETE deactivates."""

    model = User
    lookup_url_kwarg = "user_id"
    permission_module = "users"
    serializer_class = UserSerializer
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def narrow(self, queryset):
        return queryset.prefetch_related("memberships")

    @extend_schema(responses={201: UserSerializer, 202: PendingSerializer})
    def create(self, request):
        serializer = UserSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        basic = Role.objects.get(key=BuiltinRole.BASIC)
        try:
            with transaction.atomic():
                try:
                    user = accounts_services.invite_user(
                        tenant=request.tenant,
                        email=data["email"],
                        role=basic,
                        actor=request.user,
                        full_name=data.get("full_name", ""),
                    )
                except DjangoValidationError as error:  # e.g. outside the tenant's invitation domains
                    raise exceptions.ValidationError(error.message_dict) from None
                if data.get("organisation") is not None:
                    org_services.set_user_organisation(user, data["organisation"], actor=request.user, reason="API")
                role = data.get("role")
                if role is not None and role.pk != basic.pk:
                    result = role_services.change_user_role(user, role, actor=request.user, reason="API: new user")
                    if isinstance(result, PendingChange):
                        return accepted(result)
        except IntegrityError:  # a race past the check above: the address was taken in this tenant meanwhile
            raise Conflict(_("This e-mail address cannot be used."), code="unique") from None
        return Response(UserSerializer(user).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: UserSerializer, 202: PendingSerializer})
    def partial_update(self, request, **kwargs):
        user = self.get_object()
        serializer = UserSerializer(user, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        result = update_user(user, actor=request.user, **serializer.validated_data)
        if isinstance(result, PendingChange):
            return accepted(result)
        user.refresh_from_db()
        return Response(UserSerializer(user).data)

    def update(self, request, *args, **kwargs):
        return self.partial_update(request, *args, **kwargs)

    def destroy(self, request, **kwargs):
        user = self.get_object()
        if user.pk == request.user.pk:
            raise AccessRefused(ErrorCode.SELF_ROLE)  # nobody deactivates themselves (nor their key's owner)
        accounts_services.deactivate_user(user, actor=request.user, reason="API: deactivated")
        return Response(status=status.HTTP_204_NO_CONTENT)


class RoleSerializer(serializers.ModelSerializer):
    matrix = serializers.DictField(
        child=serializers.ListField(child=serializers.ChoiceField(Action.choices)), write_only=True, required=False
    )

    class Meta:
        model = Role
        fields = ["id", "key", "name", "description", "builtin", "organisation_assignable", "matrix"]
        read_only_fields = ["id", "key", "builtin"]

    def to_representation(self, role):
        data = super().to_representation(role)
        data["matrix"] = {
            cell.module.key: [a.value for a in actions_of(cell.actions)] for cell in role.matrix.all() if cell.actions
        }
        return data


class RoleViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, TenantViewSet):
    """Roles and their matrices. PATCH renames and/or replaces the matrix (through the role services)."""

    model = Role
    lookup_url_kwarg = "role_id"
    permission_module = "roles"
    serializer_class = RoleSerializer
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def narrow(self, queryset):
        assignable = choice_param(self.request, "organisation_assignable", ("true", "false"))
        if assignable is not None:  # the tenant's list of roles organisations may assign, or the others
            queryset = queryset.filter(organisation_assignable=assignable == "true")
        return queryset.prefetch_related("matrix__module")

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "organisation_assignable",
                str,
                enum=["true", "false"],
                description="Only the roles organisations may assign (true), or only the others (false).",
            )
        ]
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def create(self, request):
        serializer = RoleSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        with transaction.atomic():
            role = role_services.create_role(
                actor=request.user,
                tenant=request.tenant,
                name=data.get("name", ""),
                description=data.get("description", ""),
            )
            if data.get("matrix"):
                result = role_services.set_role_matrix(role, data["matrix"], actor=request.user, reason="API")
                if isinstance(result, PendingChange):
                    return accepted(result)
        return Response(RoleSerializer(role).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: RoleSerializer, 202: PendingSerializer})
    def partial_update(self, request, **kwargs):
        role = self.get_object()
        serializer = RoleSerializer(role, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        with transaction.atomic():
            if data.get("name") and data["name"] != role.name:
                role = role_services.rename_role(role, actor=request.user, name=data["name"])
            if "organisation_assignable" in data:
                role = delegated_services.set_organisation_assignable(
                    role, actor=request.user, assignable=data["organisation_assignable"]
                )
            if "matrix" in data:
                result = role_services.set_role_matrix(role, data["matrix"], actor=request.user, reason="API")
                if isinstance(result, PendingChange):
                    return accepted(result)
        return Response(RoleSerializer(Role.objects.get(pk=role.pk)).data)

    def destroy(self, request, **kwargs):
        role_services.delete_role(self.get_object(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class GroupSerializer(serializers.ModelSerializer):
    id = serializers.IntegerField(source="pk", read_only=True)
    members = serializers.SerializerMethodField()

    class Meta:
        model = Group
        fields = ["id", "name", "description", "kind", "members", "created_at"]
        read_only_fields = ["id", "members", "created_at"]

    def get_members(self, group) -> list[dict]:
        return [{"user": m.user_id, "owner": m.is_owner} for m in group.memberships.all()]


MemberSerializer = inline_serializer(
    "Membership", {"user": serializers.IntegerField(), "owner": serializers.BooleanField(default=False)}
)


class GroupViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """Groups and their members (add/remove through the group services)."""

    model = Group
    lookup_url_kwarg = "group_id"
    permission_module = "groups"
    serializer_class = GroupSerializer
    cursor_ordering = "auth_group_id"

    def narrow(self, queryset):
        return queryset.prefetch_related("memberships").order_by("pk")

    def create(self, request):
        serializer = GroupSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        group = group_services.create_group(
            actor=request.user,
            tenant=request.tenant,
            name=data["name"],
            kind=data.get("kind", Group.Kind.COMPANY),
            description=data.get("description", ""),
        )
        return Response(GroupSerializer(group).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=MemberSerializer, responses={200: GroupSerializer, 202: PendingSerializer})
    @action(detail=True, methods=["post"], url_path="members", permission_action=Action.CHANGE)
    def add_member(self, request, **kwargs):
        group = self.get_object()
        body = _Member(data=request.data)
        body.is_valid(raise_exception=True)
        result = group_services.add_member(
            group, body.validated_data["user"], actor=request.user, owner=body.validated_data["owner"]
        )
        if isinstance(result, PendingChange):
            return accepted(result)
        return Response(GroupSerializer(Group.objects.prefetch_related("memberships").get(pk=group.pk)).data)

    @extend_schema(request=MemberSerializer, responses={200: GroupSerializer})
    @action(detail=True, methods=["post"], url_path="members/remove", permission_action=Action.CHANGE)
    def remove_member(self, request, **kwargs):
        group = self.get_object()
        body = _Member(data=request.data)
        body.is_valid(raise_exception=True)
        group_services.remove_member(group, body.validated_data["user"], actor=request.user)
        return Response(GroupSerializer(Group.objects.prefetch_related("memberships").get(pk=group.pk)).data)


class _Member(serializers.Serializer):
    user = tenant_field(User)
    owner = serializers.BooleanField(default=False)
