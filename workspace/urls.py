from django.urls import path

from workspace import myaccess, views

app_name = "workspace"

urlpatterns = [
    path("my-access/", myaccess.my_access, name="my_access"),
    path("my-access/notices/read/", myaccess.mark_notices_read, name="notices_read"),
    path("m/<slug:module_key>/", views.module_list, name="list"),
    path("m/<slug:module_key>/export.csv", views.module_export, name="export"),
    path("m/<slug:module_key>/<int:resource_id>/", views.resource_detail, name="detail"),
    path("m/<slug:module_key>/<int:resource_id>/export.csv", views.resource_export, name="resource_export"),
]
