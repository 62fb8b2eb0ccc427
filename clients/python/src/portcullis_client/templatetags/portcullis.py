"""``{% load portcullis %}{% portcullis_can "export" "reports" as can_export %}``: Portcullis's answer."""

from __future__ import annotations

from typing import Any

from django import template

from portcullis_client.django import allowed

register = template.Library()


@register.simple_tag(takes_context=True)
def portcullis_can(context: Any, action: str, module: str, resource: int | None = None) -> bool:
    """May the request's user do ``action`` on ``module`` (or one of its resources)? False without a request."""
    request = getattr(context, "request", None) or context.get("request")  # a RequestContext, or the variable
    if request is None:
        return False
    target = module if resource is None else {"module": module, "resource": int(resource)}
    return allowed(request, action, target)
