from django.urls import path

from reviews import views

app_name = "reviews"

urlpatterns = [
    path("", views.campaign_list, name="campaigns"),
    path("mine/", views.my_reviews, name="mine"),
    path("mine/bulk/", views.bulk, name="bulk"),
    path("items/<int:item_id>/decide/", views.decide, name="decide"),
    path("items/<int:item_id>/reassign/", views.reassign, name="reassign"),
    path("delegations/", views.delegation_list, name="delegations"),
    path("delegations/<int:delegation_id>/end/", views.delegation_end, name="delegation_end"),
    path("policies/", views.policy_list, name="policies"),
    path("policies/new/", views.policy_new, name="policy_new"),
    path("policies/<int:policy_id>/", views.policy_edit, name="policy_edit"),
    path("campaigns/<int:campaign_id>/", views.campaign_detail, name="campaign"),
    path("campaigns/<int:campaign_id>/close/", views.campaign_close, name="close"),
    path("campaigns/<int:campaign_id>/apply/", views.campaign_apply, name="apply"),
    path("campaigns/<int:campaign_id>/cancel/", views.campaign_cancel, name="cancel"),
    path("campaigns/<int:campaign_id>/report/", views.campaign_report, name="report"),
    path("campaigns/<int:campaign_id>/export.csv", views.campaign_export, name="export"),
]
