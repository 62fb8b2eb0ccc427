"""Read each tenant's authorization version once per request (see permissions.versioning)."""

from permissions.versioning import request_versions


class AuthzMiddleware:
    """Checks within one request share one read of the tenant's version: warm checks stay in-process,
    and a change made by another process is seen from the next request on."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with request_versions():
            return self.get_response(request)
