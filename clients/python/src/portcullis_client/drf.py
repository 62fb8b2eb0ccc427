"""A DRF permission class that asks Portcullis.

    class ReportViewSet(viewsets.ModelViewSet):
        permission_classes = [PortcullisPermission]
        portcullis_target = "reports"                     # or a method portcullis_target(self, request)
        portcullis_actions = {"GET": "view", "POST": "create", "DELETE": "delete"}  # optional

Objects: ``portcullis_object_target(self, obj)`` (e.g. ``{"module": "reports", "external_id": obj.code}``)
makes ``has_object_permission`` ask about that object. Fail closed.
"""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission

from portcullis_client.django import allowed

DEFAULT_ACTIONS = {
    "GET": "view",
    "HEAD": "view",
    "OPTIONS": "view",
    "POST": "create",
    "PUT": "change",
    "PATCH": "change",
    "DELETE": "delete",
}


def _action(request: Any, view: Any) -> str | None:
    return (getattr(view, "portcullis_actions", None) or DEFAULT_ACTIONS).get(request.method)


class PortcullisPermission(BasePermission):
    """The view's ``portcullis_target``, the method's action: Portcullis decides for the request's user."""

    def has_permission(self, request: Any, view: Any) -> bool:
        action = _action(request, view)
        target = getattr(view, "portcullis_target", None)
        if callable(target):
            target = target(request)
        if action is None or target is None:
            return False
        return allowed(request, action, target)

    def has_object_permission(self, request: Any, view: Any, obj: Any) -> bool:
        action = _action(request, view)
        make = getattr(view, "portcullis_object_target", None)
        if make is None:
            return True  # the module-level answer above already decided
        return action is not None and allowed(request, action, make(obj))
