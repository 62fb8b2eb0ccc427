"""The tenant's "single sign-on for everyone but the break-glass administrators" rule, where it is enforced:

- the password login refuses such a user once the password is right (``refuse_password_login``, called by
  ``accounts.forms.LoginForm``), so nothing tells an outsider whether an address has an account;
- ``RequireSsoMiddleware`` ends any other session of such a user that a provider did not open (an invitation,
  a password reset, another factor's login), whatever page it reaches.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.scoping import tenant_scope
from sso.logins import SSO_SESSION
from sso.models import SsoPolicy


def sso_required(user) -> bool:
    """Whether ``user`` may sign in only through an identity provider."""
    if not getattr(user, "tenant_id", None):
        return False
    with tenant_scope(user.tenant):
        policy = SsoPolicy.objects.filter(require_sso=True).first()
        return policy is not None and not policy.break_glass.filter(pk=user.pk).exists()


def refuse_password_login(user) -> None:
    if sso_required(user):
        raise forms.ValidationError(
            _("Your organisation signs in with single sign-on: use its button or your work e-mail address below."),
            code="sso_required",
        )


class RequireSsoMiddleware:
    """A tenant user's session that no provider opened ends when the tenant requires single sign-on of them."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if (
            user.is_authenticated
            and getattr(user, "tenant_id", None)
            and SSO_SESSION not in request.session
            and not request.path_info.startswith(settings.STATIC_URL)
            and sso_required(user)
        ):
            logout(request)
            messages.error(request, _("Your organisation signs in with single sign-on."))
            return redirect(reverse("accounts:login"))
        return self.get_response(request)
