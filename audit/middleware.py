from django.conf import settings

from audit.context import Origin, client_address, origin


class AuditOriginMiddleware:
    """Makes the request's address, user agent and id the origin of every event recorded while serving it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.client_address = client_address(request, settings.TRUSTED_PROXY_COUNT)
        value = Origin(
            address=request.client_address,
            user_agent=request.headers.get("User-Agent", "")[:400],
            request_id=getattr(request, "id", ""),
        )
        with origin(value):
            return self.get_response(request)
