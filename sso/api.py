"""/api/v1/identity-providers: the same services as the console (settings: view to read, settings: change to
change). OpenID Connect or SAML 2.0 (``protocol``, chosen at creation); a SAML provider answers the portal's
metadata URL (``sp_metadata_url``, also its entity id) and ACS. The client secret is write-only; the group mapping
is replaced with PUT …/mappings, and a mapping giving console rights answers 202 with the pending change a second
administrator approves."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from api.base import TenantViewSet
from api.views.people import TenantSlugField
from permissions.models import PendingChange, Role
from permissions.vocabulary import SystemModule
from sso import saml_metadata, services
from sso.models import IdentityProvider
from webhooks.api import SettingsPermission

SETTINGS = ["name", "enabled", "issuer", "client_id", "scopes", "email_domains", "groups_claim", "provider_mfa"]
SETTINGS += ["mfa_values", "saml_metadata", "saml_metadata_url", "email_attribute", "name_attribute"]


class ProviderSerializer(serializers.ModelSerializer):
    default_role = TenantSlugField(Role, slug_field="key")
    client_secret = serializers.CharField(write_only=True, required=False, allow_blank=True, max_length=500)
    sp_metadata_url = serializers.SerializerMethodField()
    acs_url = serializers.SerializerMethodField()

    class Meta:
        model = IdentityProvider
        fields = ["id", "slug", "protocol", *SETTINGS, "saml_entity_id", "sp_metadata_url", "acs_url"]
        fields += ["default_role", "client_secret", "mappings", "created_at", "updated_at"]
        read_only_fields = ["id", "saml_entity_id", "mappings", "created_at", "updated_at"]
        # The service checks the issuer and the metadata URL (https, public address)
        extra_kwargs = {"issuer": {"validators": []}, "saml_metadata_url": {"validators": []}}

    def _uri(self, provider, build) -> str | None:
        request = self.context.get("request")
        if request is None or not provider.is_saml:
            return None
        return build(request.build_absolute_uri, provider)

    def get_sp_metadata_url(self, provider) -> str | None:
        """SAML: the portal's metadata URL for this provider, also the portal's entity id (the audience)."""
        return self._uri(provider, saml_metadata.sp_entity_id)

    def get_acs_url(self, provider) -> str | None:
        """SAML: the portal's assertion consumer service (HTTP-POST binding)."""
        return self._uri(provider, saml_metadata.acs_url)


class MappingSerializer(serializers.Serializer):
    group = serializers.CharField(max_length=200)
    role = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")
    organisation = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1)


PENDING = inline_serializer("PendingMapping", {"pending_change": serializers.IntegerField()})


class ProviderViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, TenantViewSet):
    """The tenant's OpenID Connect providers."""

    model = IdentityProvider
    lookup_url_kwarg = "provider_id"
    permission_module = SystemModule.SETTINGS.value
    permission_classes = [SettingsPermission]
    serializer_class = ProviderSerializer
    http_method_names = ["get", "post", "patch", "put", "delete", "head", "options"]

    def create(self, request):
        serializer = ProviderSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        made = services.create_provider(
            actor=request.user,
            tenant=request.tenant,
            slug=data.pop("slug"),
            default_role=data.pop("default_role"),
            client_secret=data.pop("client_secret", ""),
            protocol=data.pop("protocol", IdentityProvider.Protocol.OIDC),
            **data,
        )
        return Response(self._out(made), status=status.HTTP_201_CREATED)

    def _out(self, provider):
        return ProviderSerializer(provider, context={"request": self.request}).data

    def partial_update(self, request, **kwargs):
        provider = self.get_object()
        serializer = ProviderSerializer(provider, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.pop("slug", None)  # a provider's slug names its callback URL: it never changes
        if "protocol" in data and data.pop("protocol") != provider.protocol:
            raise serializers.ValidationError({"protocol": _("A provider's protocol cannot change: add another.")})
        changed = services.update_provider(
            provider,
            actor=request.user,
            default_role=data.pop("default_role", None),
            client_secret=data.pop("client_secret", ""),
            **data,
        )
        return Response(self._out(changed))

    def destroy(self, request, **kwargs):
        services.delete_provider(self.get_object(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=MappingSerializer(many=True), responses={200: ProviderSerializer, 202: PENDING})
    @action(detail=True, methods=["put"])
    def mappings(self, request, **kwargs):
        provider = self.get_object()
        serializer = MappingSerializer(data=request.data, many=True)
        serializer.is_valid(raise_exception=True)
        result = services.set_mappings(provider, list(serializer.validated_data), actor=request.user)
        if isinstance(result, PendingChange):
            return Response({"pending_change": result.pk}, status=status.HTTP_202_ACCEPTED)
        return Response(self._out(result))
