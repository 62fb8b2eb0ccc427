"""Step-up after an alert: while an open alert requires it, the alert's user needs an MFA verification
made after the requirement and within the last 10 minutes for every page (``accounts.stepup``), then goes
on to where they were going.

Who must step up is read once per tenant and authorization version, per process: requiring or resolving
a step-up raises the tenant's version (``permissions.versioning.bump``), so every process sees it on the
next request, and other requests cost no query.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.urls import Resolver404, resolve

from accounts.policy import MFA_STEP_URL_NAMES
from accounts.scoping import tenant_scope
from accounts.stepup import MFA_VERIFIED_AT, mfa_is_recent, step_up_redirect
from permissions.versioning import current_version

EXEMPT = MFA_STEP_URL_NAMES | {"accounts:stepup", "accounts:logout"}
MAX_AGE = 60.0  # seconds: as the engine's compiled sets, a cached answer lives at most a minute
_cache: dict[int, tuple[tuple, float, dict]] = {}


def forget() -> None:
    """Clear this process's cache (tests)."""
    _cache.clear()


def required_since(user) -> float | None:
    """Since when (a POSIX time) an open alert requires a step-up of ``user``; None when none does."""
    from intelligence.services.anomalies import users_to_step_up

    version = current_version(user.tenant_id)
    cached = _cache.get(user.tenant_id)
    if cached is None or cached[0] != version or time.monotonic() - cached[1] > MAX_AGE:
        with tenant_scope(user.tenant):
            cached = (version, time.monotonic(), users_to_step_up())
        _cache[user.tenant_id] = cached
    return cached[2].get(user.pk)


def _stepped_up_since(request, since: float) -> bool:
    """A recent MFA verification (10 minutes), made after ``since``."""
    verified = request.session.get(MFA_VERIFIED_AT)
    return mfa_is_recent(request) and verified is not None and float(verified) >= since


def _exempt(request) -> bool:
    if request.path_info.startswith((settings.STATIC_URL, "/api/", "/scim/")):
        return True
    try:
        return resolve(request.path_info).view_name in EXEMPT
    except Resolver404:
        return True


class AlertStepUpMiddleware:
    """Sends a user an open alert requires a step-up of to the step-up page (then back)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if not user.is_authenticated or not user.tenant_id or getattr(request, "mfa_pending", False):
            return self.get_response(request)
        if _exempt(request):
            return self.get_response(request)
        since = required_since(user)
        if since is not None and not _stepped_up_since(request, since):
            return step_up_redirect(request)
        return self.get_response(request)
