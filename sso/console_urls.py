from django.urls import path

from sso import console

app_name = "sso_console"

urlpatterns = [
    path("", console.provider_list, name="list"),
    path("new/", console.create, name="create"),
    path("policy/", console.policy, name="policy"),
    path("<int:provider_id>/", console.detail, name="detail"),
    path("<int:provider_id>/mappings/", console.mappings, name="mappings"),
    path("<int:provider_id>/test/", console.test_login, name="test"),
    path("<int:provider_id>/delete/", console.delete, name="delete"),
]
