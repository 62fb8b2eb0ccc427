"""Per-request tenant: scope every query to the logged-in user's tenant, in their language and time zone (their
own, else the tenant's)."""

from django.utils import timezone, translation

from accounts.scoping import tenant_scope


class TenantMiddleware:
    """Sets ``request.tenant`` from the logged-in user and runs the rest of the request in its scope.

    Anonymous requests and platform operators run with no tenant scope, so any query of a
    tenant-owned model raises instead of leaking rows.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.tenant = None
        user = request.user
        if not (user.is_authenticated and user.tenant_id):
            return self.get_response(request)
        tenant = user.tenant
        request.tenant = tenant
        if user.language:
            translation.activate(user.language)
            request.LANGUAGE_CODE = user.language
        timezone.activate(user.time_zone or tenant.time_zone)  # the user's own zone, else the tenant's
        try:
            with tenant_scope(tenant):
                return self.get_response(request)
        finally:
            timezone.deactivate()
