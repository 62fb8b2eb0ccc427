from django.urls import path

from integration import views

app_name = "integration"

urlpatterns = [
    path("", views.import_page, name="import"),
    path("apply/", views.apply, name="apply"),
    path("export/", views.export, name="export"),
]
