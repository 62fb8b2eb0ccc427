"""Error pages that never show a trace, SQL or whether an object exists elsewhere."""

from django.shortcuts import render


def not_found(request, exception=None):
    return render(request, "errors/404.html", status=404)


def forbidden(request, exception=None):
    """403: what the page needs, when we know it, and a way to ask for it (never another tenant's rows:
    those are 404)."""
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
    return render(request, "errors/500.html", status=500)
