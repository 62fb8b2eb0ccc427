from django.urls import path

from dormancy import views

app_name = "dormancy"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("exceptions/add/", views.add_exception, name="add_exception"),
    path("exceptions/<int:user_id>/remove/", views.remove_exception, name="remove_exception"),
]
