from django.urls import path

from accessrequests import views

app_name = "accessrequests"

urlpatterns = [
    path("", views.my_requests, name="mine"),
    path("new/", views.new_request, name="new"),
    path("queue/", views.queue, name="queue"),
    path("<int:request_id>/", views.detail, name="detail"),
    path("<int:request_id>/approve/", views.approve, name="approve"),
    path("<int:request_id>/deny/", views.deny, name="deny"),
    path("<int:request_id>/cancel/", views.cancel, name="cancel"),
]
