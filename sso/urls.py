from django.urls import path

from sso import views

app_name = "sso"

urlpatterns = [
    path("discover/", views.discover, name="discover"),
    path("logout/", views.logout, name="logout"),
    path("<slug:tenant_slug>/<slug:provider_slug>/start/", views.start, name="start"),
    path("<slug:tenant_slug>/<slug:provider_slug>/callback/", views.callback, name="callback"),
]
