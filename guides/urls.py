from django.urls import path

from guides import views

app_name = "guides"

urlpatterns = [
    path("", views.index, name="index"),
    path("administrator/", views.administrator, name="administrator"),
    path("reviewer/", views.reviewer, name="reviewer"),
    path("customer/", views.customer, name="customer"),
]
