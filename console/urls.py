from django.urls import path

from console.views import approvals, grants, groups, modules, roles, settings, users

app_name = "console"

urlpatterns = [
    path("users/", users.user_list, name="users"),
    path("users/invite/", users.invite, name="invite"),
    path("users/<int:user_id>/", users.user_detail, name="user"),
    path("users/<int:user_id>/role/", users.change_role, name="user_role"),
    path("users/<int:user_id>/status/", users.set_status, name="user_status"),
    path("users/<int:user_id>/invitation/", users.resend_invitation, name="user_invitation"),
    path("users/<int:user_id>/why/<int:resource_id>/", users.why, name="user_why"),
    path("roles/", roles.role_list, name="roles"),
    path("roles/new/", roles.create, name="role_create"),
    path("roles/<int:role_id>/", roles.role_detail, name="role"),
    path("roles/<int:role_id>/matrix/", roles.edit_matrix, name="role_matrix"),
    path("roles/<int:role_id>/clone/", roles.clone, name="role_clone"),
    path("roles/<int:role_id>/rename/", roles.rename, name="role_rename"),
    path("roles/<int:role_id>/delete/", roles.delete, name="role_delete"),
    path("groups/", groups.group_list, name="groups"),
    path("groups/new/", groups.create, name="group_create"),
    path("groups/<int:group_id>/", groups.group_detail, name="group"),
    path("groups/<int:group_id>/members/", groups.add_member, name="group_add_member"),
    path("groups/<int:group_id>/members/<int:user_id>/", groups.member, name="group_member"),
    path("modules/", modules.module_list, name="modules"),
    path("modules/new/", modules.create_module, name="module_create"),
    path("modules/<int:module_id>/", modules.resource_list, name="module"),
    path("modules/<int:module_id>/new/", modules.create_resource, name="resource_create"),
    path("modules/<int:module_id>/edit/", modules.edit_module, name="module_edit"),
    path("resources/<int:resource_id>/", modules.resource_detail, name="resource"),
    path("resources/<int:resource_id>/edit/", modules.edit_resource, name="resource_edit"),
    path("resources/<int:resource_id>/owner/", modules.set_resource_owner, name="resource_owner"),
    path("grants/new/", grants.new_grant, name="grant_create"),
    path("grants/<int:grant_id>/revoke/", grants.revoke, name="grant_revoke"),
    path("approvals/", approvals.change_list, name="approvals"),
    path("approvals/<int:change_id>/", approvals.change_detail, name="approval"),
    path("settings/", settings.tenant_settings, name="settings"),
]
