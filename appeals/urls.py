from django.urls import path

from appeals import views

app_name = "appeals"

urlpatterns = [
    path("", views.my_cases, name="mine"),
    path("new/", views.new_case, name="new"),
    path("queue/", views.queue, name="queue"),
    path("<int:case_id>/", views.detail, name="detail"),
    path("<int:case_id>/reply/", views.reply, name="reply"),
    path("<int:case_id>/resolve/", views.resolve, name="resolve"),
    path("<int:case_id>/grant/", views.grant, name="grant"),
    path("<int:case_id>/close/", views.close, name="close"),
]
