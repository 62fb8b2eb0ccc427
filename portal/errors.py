"""Error pages that never show a trace, SQL or whether an object exists elsewhere.

Under /api/ and /scim/ every error is the API's own: problem+json (RFC 9457) or SCIM's error schema
(``api.errors.error_response``), never an HTML page. The 500 handler reads nothing of a tenant (its
page is rendered without the layout's context processors, which query the tenant's menu: the tenant
scope has closed by then) and always logs the request id, which it also shows.
"""

import logging

from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

log = logging.getLogger("portal.errors")


def _api_error(request, status_code: int, code: str, detail: str):
    from api.errors import error_response

    return error_response(request, status_code, code, detail)


def not_found(request, exception=None):
    api = _api_error(request, 404, "not_found", _("Not found."))
    if api is not None:
        return api
    return render(request, "errors/404.html", status=404)


def bad_request(request, exception=None):
    """400 from Django itself (a suspicious operation: a malformed host, too many fields)."""
    api = _api_error(request, 400, "bad_request", _("The request is not valid."))
    if api is not None:
        return api
    from django.views.defaults import bad_request as django_bad_request

    return django_bad_request(request, exception)


def forbidden(request, exception=None):
    """403: what the page needs, when we know it, and a way to ask for it (never another tenant's rows:
    those are 404)."""
    api = _api_error(request, 403, "permission_denied", _("You do not have permission to perform this action."))
    if api is not None:
        return api
    from urllib.parse import urlencode

    from django.urls import reverse

    from permissions.views import ModuleRefused
    from permissions.vocabulary import BusinessModule, SystemModule

    context = {}
    user = getattr(request, "user", None)
    if isinstance(exception, ModuleRefused) and getattr(user, "tenant_id", None):
        labels = {**dict(SystemModule.choices), **dict(BusinessModule.choices)}
        context = {
            "module_label": labels.get(exception.module, exception.module),
            "action_label": exception.action.label,
            "request_url": f"{reverse('accessrequests:new')}?"
            + urlencode({"module": exception.module, "actions": exception.action.value}),
        }
    return render(request, "errors/403.html", context, status=403)


def server_error(request):
    """500: logs the request id, answers in the API's format under /api/ and /scim/, else a page rendered
    without any context processor (no tenant query: the scope has closed)."""
    from django.http import HttpResponseServerError

    request_id = getattr(request, "id", "") or ""
    log.error("server error %s %s", request.method, request.path, extra={"request_id": request_id})
    api = _api_error(
        request, 500, "server_error", _("Something went wrong; quote the request id %(id)s.") % {"id": request_id}
    )
    if api is not None:
        return api
    return HttpResponseServerError(render_to_string("errors/500.html", {"request_id": request_id}))
