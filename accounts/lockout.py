"""django-axes glue: which address and which account a login attempt counts against, and the lockout page.

Five failed passwords per (account, client address) lock that pair for 15 minutes (AUTH-2). The
address is ``audit.context.client_address`` with ``TRUSTED_PROXY_COUNT``: entries a client adds to
X-Forwarded-For are never trusted, so forging the header neither resets nor dodges the count.
"""

from __future__ import annotations

from django.conf import settings
from django.shortcuts import render

from audit.context import client_address


def client_ip(request) -> str:
    """The client address axes counts failures against."""
    return client_address(request, settings.TRUSTED_PROXY_COUNT)


def username(request, credentials) -> str:
    """The account an attempt counts against: the e-mail, lower-cased (so case changes do not dodge it)."""
    value = None
    for key, given in (credentials or {}).items():
        # Django's signal says "username"; axes' backend names the field after USERNAME_FIELD ("email").
        if str(key) in ("username", "email") and given:
            value = given
            break
    if value is None:
        value = request.POST.get("username", "")
    return str(value).strip().lower()[:254]


def lockout_response(request, original_response=None, credentials=None):
    """The login page with a clear lockout message (HTTP 429); no password is checked while locked."""
    from accounts.forms import LoginForm

    form = LoginForm(request, initial={"username": username(request, credentials)})
    context = {
        "form": form,
        "locked_out": True,
        "cooloff_minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
    }
    return render(request, "accounts/login.html", context, status=429)
