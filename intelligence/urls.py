from django.urls import path

from intelligence import views

app_name = "intelligence"

urlpatterns = [
    path("", views.outliers, name="outliers"),
    path("proposals/", views.proposals, name="proposals"),
    path("proposals/analyse/", views.analyse_now, name="analyse"),
    path("proposals/<int:proposal_id>/dismiss/", views.dismiss, name="dismiss"),
    path("roles/", views.roles, name="roles"),
    path("roles/<int:role_proposal_id>/", views.role_proposal, name="role_proposal"),
    path("usage/", views.usage_page, name="usage"),
    path("usage.csv", views.usage_csv, name="usage_csv"),
    path("alerts/", views.alerts, name="alerts"),
    path("alerts/<int:alert_id>/", views.alert_action, name="alert_action"),
]
