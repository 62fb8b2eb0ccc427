"""The tenant's optional allow-list of client address ranges for the console (a console setting).

When a tenant lists ranges, a request of one of its users to the console or the audit viewer from an address
outside them is refused (403) before the view runs. The address is ``audit.context.client_address`` with
``TRUSTED_PROXY_COUNT``, as for the login lockout: a forged X-Forwarded-For does not get anyone in.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied

from accounts.models import networks
from accounts.services import address_in
from audit.context import client_address

CONSOLE_PREFIXES = ("/console/", "/audit/")


class ConsoleNetworkMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        tenant = getattr(request, "tenant", None)
        if tenant is not None and tenant.console_networks and request.path_info.startswith(CONSOLE_PREFIXES):
            address = client_address(request, settings.TRUSTED_PROXY_COUNT)
            if not address_in(address, networks(tenant.console_networks)):
                raise PermissionDenied("the client address is outside the tenant's console ranges")
        return self.get_response(request)
