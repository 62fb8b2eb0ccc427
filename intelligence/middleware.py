"""Step-up after an alert: while an open alert requires it, the alert's user needs an MFA verification
within the last 10 minutes for every page (``accounts.stepup``), then goes on to where they were going.

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
from accounts.stepup import mfa_is_recent, step_up_redirect
from permissions.versioning import current_version

EXEMPT = MFA_STEP_URL_NAMES | {"accounts:stepup", "accounts:logout"}
MAX_AGE = 60.0  # seconds: as the engine's compiled sets, a cached answer lives at most a minute
_cache: dict[int, tuple[tuple, float, frozenset]] = {}


def forget() -> None:
    """Clear this process's cache (tests)."""
    _cache.clear()


def must_step_up(user) -> bool:
    """Whether an open alert requires a step-up of ``user``."""
    from intelligence.services.anomalies import users_to_step_up

    version = current_version(user.tenant_id)
    cached = _cache.get(user.tenant_id)
    if cached is None or cached[0] != version or time.monotonic() - cached[1] > MAX_AGE:
        with tenant_scope(user.tenant):
            cached = (version, time.monotonic(), frozenset(users_to_step_up()))
        _cache[user.tenant_id] = cached
    return user.pk in cached[2]


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
        if (
            user.is_authenticated
            and user.tenant_id
            and not getattr(request, "mfa_pending", False)
            and not _exempt(request)
            and must_step_up(user)
            and not mfa_is_recent(request)
        ):
            return step_up_redirect(request)
        return self.get_response(request)
