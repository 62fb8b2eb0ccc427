from django.urls import path
from portcullis_client.django import webhook

from exampleapp import views

urlpatterns = [
    path("reports/", views.reports_page, name="reports"),
    path("reports/export", views.export_reports, name="export"),
    path("api/reports", views.ReportApi.as_view(), name="api-reports"),
    path("hooks/portcullis", webhook, name="portcullis-webhook"),  # the tenant's webhook subscription points here
]
