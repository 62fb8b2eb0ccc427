"""The check API's lean path through the middleware stack.

authz_perf.md §6.4 measured the default middleware stack at about a quarter of a bare Django request on
this machine; ours has nineteen layers (sessions, locale, CSRF, session auth, OTP, MFA policy, messages,
CSP, axes …) that a bearer-key check never uses. For ``POST /api/v1/check`` and ``/api/v1/check/batch``
sent with ``Authorization: Bearer`` and **no cookie**, this middleware (placed right after Django's
SecurityMiddleware, so HTTPS redirect, HSTS and nosniff still apply) calls the view directly, keeping what
the view relies on: the Host check, the per-request authorization-version read (AuthzMiddleware), the
audit origin, and the response headers of an authenticated API answer (no-store, no framing) with its
Content-Length (CommonMiddleware's, skipped here). The common
case is then answered by ``api.lean`` without DRF's request machinery, anything else by the DRF view. Any
other request — a cookie (the portal's session), another path or method — takes the whole stack.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.urls import resolve

from api import lean
from audit.context import Origin, client_address, origin
from permissions.versioning import request_versions

PATHS = frozenset({"/api/v1/check", "/api/v1/check/batch"})
HEADERS = {
    "Cache-Control": "no-store, no-cache, must-revalidate, private, max-age=0",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


_matches: dict = {}


def _match(path: str):
    """The URL match of one of PATHS, resolved once per process (resolving cost 4 % of a check's CPU)."""
    match = _matches.get(path)
    if match is None:
        match = _matches[path] = resolve(path)
    return match


def takes_fast_path(request) -> bool:
    """A bearer-key POST to the check API with no cookie."""
    meta = request.META
    return (
        request.method == "POST"
        and request.path_info in PATHS
        and not meta.get("HTTP_COOKIE")
        and meta.get("HTTP_AUTHORIZATION", "").startswith("Bearer ")
    )


class CheckFastPathMiddleware:
    """Serves bearer-key checks without the session/CSRF/MFA layers they never use."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not takes_fast_path(request):
            return self.get_response(request)
        try:
            request.get_host()  # ALLOWED_HOSTS, as CommonMiddleware would
        except DisallowedHost:
            return self.get_response(request)  # the whole stack answers 400
        request.tenant = None
        request.client_address = client_address(request, settings.TRUSTED_PROXY_COUNT)
        match = _match(request.path_info)
        value = Origin(
            address=request.client_address,
            user_agent=request.headers.get("User-Agent", "")[:400],
            request_id=getattr(request, "id", ""),
        )
        with request_versions(), origin(value):
            response = lean.respond(request, batch=match.url_name == "check-batch")
            if response is None:  # anything but the common case: the DRF view answers, errors included
                response = match.func(request, *match.args, **match.kwargs)
        if hasattr(response, "render"):
            response = response.render()
        for name, header in HEADERS.items():
            response[name] = header
        if not response.streaming and not response.has_header("Content-Length"):
            # as CommonMiddleware does on the whole stack: without it gunicorn frames the answer in chunks
            response.headers["Content-Length"] = str(len(response.content))
        return response
