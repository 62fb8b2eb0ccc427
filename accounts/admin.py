"""What platform operators see and do in the Django admin (INS-4; the list is in docs/deployment.md).

Operators read every tenant, create tenants (through ``services.create_tenant``, audited in the new tenant's
trail) and deactivate or reactivate a tenant user through the tenant's own service, which ends the user's
sessions and records the change in the tenant's trail with the operator as actor. They never edit tenant
users, roles, grants or tenant settings directly: those forms are read-only, and the tenant's administrators
change them in the console, where escalations and weakened settings are four-eyes changes.
"""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from accounts import services
from accounts.models import Tenant, User
from accounts.scoping import tenant_scope
from permissions.models import Role
from permissions.services.errors import AccessRefused

REFUSALS = (AccessRefused, ValueError)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Lists and detail pages only: no add, change or delete."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Tenant)
class TenantAdmin(ReadOnlyAdmin):
    list_display = ["name", "slug", "is_active", "mfa_policy", "created_at"]
    search_fields = ["name", "slug"]
    fields = ["name", "slug"]

    def has_add_permission(self, request, obj=None):
        return True  # a new tenant, through the service (its built-in roles, modules and first audit event)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["name", "slug"]
        return [field.name for field in Tenant._meta.fields if field.name != "id"]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.get_fields(request, obj)

    def save_model(self, request, obj, form, change):
        if change:
            raise PermissionError("tenants are not changed through the platform admin")
        created = services.create_tenant(name=obj.name, slug=obj.slug, actor=request.user)
        obj.pk = created.pk


def role_label(role) -> str:
    """A role always says whose it is: "Administrator (Acme Trading)"."""
    if role is None:
        return "—"
    return f"{role.display_name} ({role.tenant.name})"


@admin.register(User)
class UserAdmin(ReadOnlyAdmin):
    list_display = ["email", "full_name", "tenant", "role_of_tenant", "is_active", "last_login"]
    list_filter = ["tenant", "is_active"]
    list_select_related = ["tenant", "role__tenant"]
    search_fields = ["email", "full_name"]
    fields = ["email", "full_name", "tenant", "role_of_tenant", "is_active", "is_staff", "last_login", "date_joined"]
    readonly_fields = fields
    actions = ["deactivate_users", "reactivate_users"]

    @admin.display(description=_("role"))
    def role_of_tenant(self, user):
        return role_label(user.role)

    def _set_active(self, request, queryset, active: bool):
        done = 0
        for user in queryset.select_related("tenant").filter(tenant__isnull=False):
            with tenant_scope(user.tenant):
                reason = "by a platform operator"  # recorded as given, not translated
                if active:
                    services.reactivate_user(user, actor=request.user, reason=reason)
                else:
                    services.deactivate_user(user, actor=request.user, reason=reason)
            done += 1
        self.message_user(request, _("Users changed through their tenant's service: %(count)d.") % {"count": done})

    @admin.action(description=_("Deactivate (through the tenant's service, in its audit trail)"))
    def deactivate_users(self, request, queryset):
        try:
            self._set_active(request, queryset, False)
        except REFUSALS as error:  # the tenant's service refused (e.g. the last administrator)
            self.message_user(request, str(error), level=messages.ERROR)

    @admin.action(description=_("Reactivate (through the tenant's service, in its audit trail)"))
    def reactivate_users(self, request, queryset):
        try:
            self._set_active(request, queryset, True)
        except REFUSALS as error:
            self.message_user(request, str(error), level=messages.ERROR)


@admin.register(Role)
class RoleAdmin(ReadOnlyAdmin):
    list_display = ["name", "key", "tenant", "builtin"]
    list_filter = ["tenant", "builtin"]
    list_select_related = ["tenant"]
