"""Request id and security headers."""

import re
import uuid

from django.conf import settings
from django.utils.cache import add_never_cache_headers

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestIdMiddleware:
    """Gives each request an id (kept from a well-formed ``X-Request-ID``), echoed in the response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request.id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        response = self.get_response(request)
        response["X-Request-ID"] = request.id
        return response


class EdgeInputMiddleware:
    """Refuses a malformed URL, query string or oversized headers of an API or SCIM request before any
    view (or the database) sees it, in the API's error format (``api.input.edge_problem``)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from api.errors import error_response, is_api_path, is_scim_path
        from api.input import edge_problem

        path = request.META.get("PATH_INFO", "")
        if is_api_path(path) or is_scim_path(path):
            problem = edge_problem(request)
            if problem is not None:
                return error_response(request, *problem)
        return self.get_response(request)


class SecurityHeadersMiddleware:
    """Headers Django's SecurityMiddleware does not set: no caching of authenticated pages (DP-4)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # Decided before the view too: a view may hide who is asking (DRF's schema and docs views answer as
        # anonymous), and a page behind an e-mailed link holds its token in an anonymous session.
        private = _carries_credentials(request)
        response = self.get_response(request)
        if private or (getattr(request, "user", None) is not None and request.user.is_authenticated):
            add_never_cache_headers(response)
            response["Cache-Control"] = "no-store, no-cache, must-revalidate, private, max-age=0"
        response.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        return response


def _carries_credentials(request) -> bool:
    """The request comes with a session, an API key or a logged-in user: its answer is for this caller only."""
    if settings.SESSION_COOKIE_NAME in request.COOKIES or "HTTP_AUTHORIZATION" in request.META:
        return True
    user = getattr(request, "user", None)
    return user is not None and user.is_authenticated
