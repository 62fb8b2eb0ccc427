from django.urls import path

from training import views

app_name = "training"

urlpatterns = [
    path("", views.lesson_list, name="lessons"),
    path("lessons/<slug:lesson_key>/", views.lesson, name="lesson"),
    path("requirements/", views.requirement_list, name="requirements"),
    path("requirements/new/", views.create_requirement, name="requirement_create"),
    path("requirements/<int:requirement_id>/delete/", views.delete_requirement, name="requirement_delete"),
]
