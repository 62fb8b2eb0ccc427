"""Django's admin, reserved for platform operators (superusers without a tenant).

Tenant users can never reach it, whatever flags they hold: ``has_permission`` asks for an operator whose
session passed the TOTP step of this site's own login (INS-4; a password-only session of an operator, from
any other login page, is not enough). Operators work across tenants, so every admin view runs unscoped;
what they may change there is limited to what docs/deployment.md lists (accounts/admin.py).
"""

from functools import update_wrapper

from django import forms
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.signals import user_login_failed
from django.utils.translation import gettext_lazy as _

from accounts import operators
from accounts.mfa.models import Outcome
from accounts.scoping import dangerously_unscoped


class OperatorLoginForm(AdminAuthenticationForm):
    """E-mail, password and a TOTP code. A wrong or missing code is a failed login for django-axes (same
    lockout as tenants: 5 per account and address), and the answer does not say which part was wrong."""

    code = forms.CharField(
        label=_("Code"), max_length=16, widget=forms.TextInput(attrs={"autocomplete": "one-time-code"})
    )

    def clean(self):
        cleaned = super().clean()  # the password (axes counts a wrong one), then is_staff/is_active
        user = self.get_user()
        if user is None:
            return cleaned
        outcome = Outcome.WRONG
        if getattr(user, "is_operator", False):
            outcome = operators.verify(user, self.cleaned_data.get("code", ""))
        if outcome is not Outcome.OK:
            user_login_failed.send(sender=__name__, credentials={"username": user.email}, request=self.request)
            self.user_cache = None
            raise self.get_invalid_login_error()
        return cleaned


class PlatformAdminSite(admin.AdminSite):
    site_header = _("Portcullis platform administration")
    site_title = _("Portcullis platform")
    login_form = OperatorLoginForm
    login_template = "admin/operator_login.html"

    def has_permission(self, request):
        user = request.user
        return bool(
            user.is_active
            and user.is_authenticated
            and getattr(user, "is_operator", False)
            and request.session.get(operators.SESSION_FLAG)
        )

    def login(self, request, extra_context=None):
        response = super().login(request, extra_context)
        user = request.user
        if request.method == "POST" and user.is_authenticated and getattr(user, "is_operator", False):
            # Django's LoginView logged the operator in only after OperatorLoginForm checked the code.
            request.session[operators.SESSION_FLAG] = True
        return response

    def admin_view(self, view, cacheable=False):
        protected = super().admin_view(view, cacheable)

        def unscoped_view(request, *args, **kwargs):
            if not self.has_permission(request):
                return protected(request, *args, **kwargs)  # Django's own redirect to the admin login
            # Operators manage every tenant: the deliberate, named exception to tenant scoping.
            with dangerously_unscoped():
                return protected(request, *args, **kwargs)

        return update_wrapper(unscoped_view, protected)
