"""/scim/v2/: Users, Groups, search, bulk and discovery (RFC 7644)."""

from django.urls import path

from api.scim import bulk, discovery, resources

app_name = "scim"

urlpatterns = [
    path("ServiceProviderConfig", discovery.ServiceProviderConfig.as_view(), name="config"),
    path("ResourceTypes", discovery.ResourceTypes.as_view(), name="resource-types"),
    path("ResourceTypes/<str:name>", discovery.ResourceTypes.as_view(), name="resource-type"),
    path("Schemas", discovery.Schemas.as_view(), name="schemas"),
    path("Schemas/<str:urn>", discovery.Schemas.as_view(), name="schema"),
    path("Users", resources.Users.as_view(), name="users"),
    path("Users/.search", resources.UserSearch.as_view(), name="user-search"),
    path("Users/<str:pk>", resources.UserDetail.as_view(), name="user"),
    path("Groups", resources.Groups.as_view(), name="groups"),
    path("Groups/.search", resources.GroupSearch.as_view(), name="group-search"),
    path("Groups/<str:pk>", resources.GroupDetail.as_view(), name="group"),
    path("Bulk", bulk.Bulk.as_view(), name="bulk"),
    path(".search", resources.RootSearch.as_view(), name="search"),
]
