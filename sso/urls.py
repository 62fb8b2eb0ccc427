from django.urls import path

from sso import views

app_name = "sso"

urlpatterns = [
    path("discover/", views.discover, name="discover"),
    path("logout/", views.logout, name="logout"),
    path("step-up/<int:provider_id>/", views.step_up, name="stepup"),
    path("<slug:tenant_slug>/<slug:provider_slug>/start/", views.start, name="start"),
    path("<slug:tenant_slug>/<slug:provider_slug>/callback/", views.callback, name="callback"),
    path("<slug:tenant_slug>/<slug:provider_slug>/saml/metadata/", views.saml_sp_metadata, name="saml_metadata"),
    path("<slug:tenant_slug>/<slug:provider_slug>/saml/acs/", views.saml_acs, name="saml_acs"),
    path("<slug:tenant_slug>/<slug:provider_slug>/saml/finish/", views.saml_finish, name="saml_finish"),
]
