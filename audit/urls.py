from django.urls import path

from audit import views

app_name = "audit"

urlpatterns = [
    path("", views.event_list, name="events"),
    path("events/<int:event_id>/", views.event_detail, name="event"),
    path("verify/", views.verify_now, name="verify"),
    path("export/", views.export, name="export"),
    path("export/selection.csv", views.export_selection, name="export_selection"),
    path("keys.json", views.public_keys, name="public_keys"),
    path("checkpoint.txt", views.latest_checkpoint, name="checkpoint"),
    path("my-receipt.json", views.my_receipt, name="my_receipt"),
]
