"""/api/v1/ (REST + check API), /api/schema/ (OpenAPI 3), /api/docs/ (Swagger UI, served locally), /api/keys/."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import AllowAny
from rest_framework.routers import SimpleRouter

from api.views import check, keys_admin
from api.views.catalogue import ModuleViewSet, ResourceViewSet
from api.views.organisations import OrganisationViewSet, SharingRuleViewSet
from api.views.people import GroupViewSet, RoleViewSet, UserViewSet
from api.views.records import AuditEventViewSet, CheckpointViewSet, GrantViewSet
from api.views.requests import AccessRequestViewSet
from api.views.reviews import CampaignViewSet, ReviewItemViewSet
from api.views.sod import SodRuleViewSet, SodViolationsView
from integration.api import ExportView, ImportView
from permissions.views import PUBLIC
from sso.api import ProviderViewSet
from webhooks.api import SubscriptionViewSet

app_name = "api"

router = SimpleRouter(trailing_slash=False)
router.register("users", UserViewSet, basename="user")
router.register("roles", RoleViewSet, basename="role")
router.register("groups", GroupViewSet, basename="group")
router.register("modules", ModuleViewSet, basename="module")
router.register("resources", ResourceViewSet, basename="resource")
router.register("grants", GrantViewSet, basename="grant")
router.register("organisations", OrganisationViewSet, basename="organisation")
router.register("sharing-rules", SharingRuleViewSet, basename="sharing-rule")
router.register("audit-events", AuditEventViewSet, basename="audit-event")
router.register("checkpoints", CheckpointViewSet, basename="checkpoint")
router.register("access-requests", AccessRequestViewSet, basename="access-request")
router.register("review-campaigns", CampaignViewSet, basename="review-campaign")
router.register("review-items", ReviewItemViewSet, basename="review-item")
router.register("webhooks", SubscriptionViewSet, basename="webhook")
router.register("sod/rules", SodRuleViewSet, basename="sod-rule")
router.register("identity-providers", ProviderViewSet, basename="identity-provider")


class SchemaView(SpectacularAPIView):
    """The OpenAPI document: public (it describes the API's shape, never data)."""

    authz = PUBLIC
    permission_classes = [AllowAny]
    authentication_classes = []


class DocsView(SpectacularSwaggerSplitView):
    """Swagger UI from drf-spectacular-sidecar (no CDN); its start-up script is a separate file (CSP)."""

    authz = PUBLIC
    permission_classes = [AllowAny]
    authentication_classes = []
    url_name = "api:schema"
    template_name = "api/swagger_ui.html"


urlpatterns = [
    path("v1/check", check.CheckView.as_view(), name="check"),
    path("v1/check/batch", check.BatchCheckView.as_view(), name="check-batch"),
    path("v1/users/<int:user_id>/visible", check.VisibleView.as_view(), name="user-visible"),
    path("v1/sod/violations", SodViolationsView.as_view(), name="sod-violations"),
    path("v1/imports", ImportView.as_view(), name="imports"),
    path("v1/exports", ExportView.as_view(), name="exports"),
    path("v1/", include(router.urls)),
    path("schema/", SchemaView.as_view(), name="schema"),
    path("docs/", DocsView.as_view(), name="docs"),
    path("keys/", keys_admin.key_list, name="keys"),
    path("keys/new", keys_admin.key_create, name="key-create"),
    path("keys/<int:key_id>/revoke", keys_admin.key_revoke, name="key-revoke"),
]
