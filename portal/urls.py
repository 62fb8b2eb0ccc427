from django.contrib import admin
from django.urls import include, path

from portal import views
from portal.pickers import views as pickers

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("pickers/<slug:name>/", pickers.search, name="picker"),
    path("accounts/", include("accounts.urls")),
    path("sso/", include("sso.urls")),
    path("audit/", include("audit.urls")),
    path("api/", include("api.urls")),
    path("scim/v2/", include("api.scim.urls")),
    path("reviews/", include("reviews.urls")),
    path("console/webhooks/", include("webhooks.urls")),
    path("console/intelligence/", include("intelligence.urls")),
    path("console/sso/", include("sso.console_urls")),
    path("console/import/", include("integration.urls")),
    path("console/", include("console.urls")),
    path("requests/", include("accessrequests.urls")),
    path("appeals/", include("appeals.urls")),
    path("console/dormancy/", include("dormancy.urls")),
    path("training/", include("training.urls")),
    path("help/", include("guides.urls")),
    path("", include("workspace.urls")),
    path("platform-admin/", admin.site.urls),
]

handler400 = "portal.errors.bad_request"
handler403 = "portal.errors.forbidden"
handler404 = "portal.errors.not_found"
handler500 = "portal.errors.server_error"
