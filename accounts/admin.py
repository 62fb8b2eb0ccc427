from django.contrib import admin

from accounts.models import Tenant, User
from permissions.models import Role


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "is_active", "mfa_policy", "created_at"]
    search_fields = ["name", "slug"]


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    list_display = ["email", "full_name", "tenant", "role", "is_active", "last_login"]
    list_filter = ["tenant", "is_active"]
    search_fields = ["email", "full_name"]
    exclude = ["password", "user_permissions", "groups"]
    readonly_fields = ["last_login", "date_joined"]


@admin.register(Role)
class RoleAdmin(admin.ModelAdmin):
    list_display = ["name", "key", "tenant", "builtin"]
    list_filter = ["tenant", "builtin"]
