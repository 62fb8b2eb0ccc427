from django.urls import path

from webhooks import views

app_name = "webhooks"

urlpatterns = [
    path("", views.subscription_list, name="list"),
    path("new/", views.create, name="create"),
    path("<int:subscription_id>/", views.detail, name="detail"),
    path("<int:subscription_id>/rotate/", views.rotate, name="rotate"),
    path("<int:subscription_id>/delete/", views.delete, name="delete"),
    path("<int:subscription_id>/deliveries/<int:delivery_id>/redeliver/", views.redeliver, name="redeliver"),
]
