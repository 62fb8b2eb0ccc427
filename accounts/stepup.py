"""Step-up: sensitive actions need an MFA verification within the last 10 minutes.

Use ``@require_recent_mfa`` on a function view or ``RecentMfaRequiredMixin`` on a class-based view.
Without a recent verification the user is sent to the step-up page, asked for a code, and
returned to the action (for a POST, to the page the form was on). Each verification rotates the
session id (SES-1) and is audited.
"""

from __future__ import annotations

import time
from functools import wraps
from urllib.parse import urlencode, urlparse

import django_otp
from django.http import QueryDict
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from accounts import sessions

RECENT_SECONDS = 10 * 60
MFA_VERIFIED_AT = "portcullis_mfa_at"

#: Other ways to pass the step-up, added by apps (single sign-on: a fresh sign-in at the user's identity provider):
#: callables ``(request, user) -> [{"label": str, "url": str}]``, each offered as a button posting ``next`` there.
STEP_UP_OPTIONS: list = []

KEPT_FORM = "portcullis_stepup_form"
NOT_KEPT = ("csrfmiddlewaretoken", "step")

__all__ = [
    "RECENT_SECONDS",
    "RecentMfaRequiredMixin",
    "mark_verified",
    "mfa_is_recent",
    "require_recent_mfa",
    "resumed_form",
    "step_up_keeping_form",
    "step_up_to",
]


def step_up_options(request, user) -> list[dict]:
    """The other ways ``user`` may pass the step-up now (``STEP_UP_OPTIONS``)."""
    return [option for hook in STEP_UP_OPTIONS for option in hook(request, user)]


def mark_verified(request, device) -> None:
    """The session passed MFA with ``device`` now: remember it, rotate the session id (SES-1)."""
    django_otp.login(request, device)
    sessions.rotate(request)
    request.session[MFA_VERIFIED_AT] = time.time()


def mfa_is_recent(request, seconds: int = RECENT_SECONDS) -> bool:
    """Whether this session passed MFA within ``seconds``."""
    value = request.session.get(MFA_VERIFIED_AT)
    if value is None or not request.user.is_verified():
        return False
    return 0 <= time.time() - float(value) <= seconds


def return_path(request) -> str:
    """Where to come back after the step-up: this page, or for a POST the page its form was on."""
    if request.method in ("GET", "HEAD"):
        return request.get_full_path()
    referer = request.headers.get("Referer", "")
    if referer and url_has_allowed_host_and_scheme(referer, {request.get_host()}, request.is_secure()):
        parsed = urlparse(referer)
        return parsed.path + (f"?{parsed.query}" if parsed.query else "")
    return request.path


def step_up_to(path: str):
    """Send the user to the step-up page, then back to ``path``."""
    return redirect(f"{reverse('accounts:stepup')}?{urlencode({'next': path})}")


def step_up_redirect(request):
    return step_up_to(return_path(request))


def step_up_keeping_form(request):
    """A POSTed form needs a fresh MFA check first: keep what was typed in the session, send the user to the
    step-up page, and bring them back to the form filled in (``resumed_form``), to submit it again.
    Nothing of the form has been applied."""
    kept = {key: request.POST.getlist(key) for key in request.POST if key not in NOT_KEPT}
    request.session[KEPT_FORM] = {"path": request.path, "data": kept}
    return step_up_to(f"{request.path}?resume=1")


def resumed_form(request) -> QueryDict | None:
    """The form kept by ``step_up_keeping_form`` for this page, once, when coming back from the step-up."""
    if request.method != "GET" or request.GET.get("resume") != "1":
        return None
    kept = request.session.get(KEPT_FORM)
    if not kept or kept.get("path") != request.path:
        return None
    del request.session[KEPT_FORM]
    data = QueryDict(mutable=True)
    for key, values in kept["data"].items():
        data.setlist(key, values)
    return data


def require_recent_mfa(view):
    """Decorator: run ``view`` only after an MFA verification within the last 10 minutes."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            from django.contrib.auth.views import redirect_to_login

            return redirect_to_login(request.get_full_path())
        if not mfa_is_recent(request):
            return step_up_redirect(request)
        return view(request, *args, **kwargs)

    wrapped.requires_recent_mfa = True
    return wrapped


class RecentMfaRequiredMixin:
    """Class-based views: the same rule as ``require_recent_mfa``."""

    requires_recent_mfa = True

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not mfa_is_recent(request):
            return step_up_redirect(request)
        return super().dispatch(request, *args, **kwargs)
