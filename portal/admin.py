"""Django's admin, reserved for platform operators (superusers without a tenant).

Tenant users can never reach it, whatever flags they hold: ``has_permission`` asks for an
operator, and operators work across tenants, so every admin view runs unscoped.
"""

from functools import update_wrapper

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from accounts.scoping import dangerously_unscoped


class PlatformAdminSite(admin.AdminSite):
    site_header = _("Portcullis platform administration")
    site_title = _("Portcullis platform")

    def has_permission(self, request):
        user = request.user
        return bool(user.is_active and user.is_authenticated and getattr(user, "is_operator", False))

    def admin_view(self, view, cacheable=False):
        protected = super().admin_view(view, cacheable)

        def unscoped_view(request, *args, **kwargs):
            if not self.has_permission(request):
                return protected(request, *args, **kwargs)  # Django's own redirect to the admin login
            # Operators manage every tenant: the deliberate, named exception to tenant scoping.
            with dangerously_unscoped():
                return protected(request, *args, **kwargs)

        return update_wrapper(unscoped_view, protected)
