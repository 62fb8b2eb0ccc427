"""The engine as a DRF permission class (DRF does not run object checks on lists: filter with visible())."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured
from rest_framework.permissions import BasePermission

from permissions import engine
from permissions.usage import record_use
from permissions.vocabulary import Action

_SAFE = {"GET", "HEAD", "OPTIONS"}
_BY_METHOD = {"POST": Action.CREATE, "PUT": Action.CHANGE, "PATCH": Action.CHANGE, "DELETE": Action.DELETE}


class EnginePermission(BasePermission):
    """Needs the view's ``permission_module`` and the action of the method (or ``permission_action``)."""

    engine_backed = True  # the AZ-3 walker accepts DRF views that use this class and declare a module

    def _declared(self, request, view) -> tuple[str, Action]:
        module = getattr(view, "permission_module", None)
        if not module:
            raise ImproperlyConfigured(f"{type(view).__name__} must declare permission_module")
        action = getattr(view, "permission_action", None)
        if action is None:
            action = Action.VIEW if request.method in _SAFE else _BY_METHOD.get(request.method)
        if action is None:
            raise ImproperlyConfigured(f"{type(view).__name__}: no action for {request.method}")
        return str(module), Action(action)

    def has_permission(self, request, view) -> bool:
        module, action = self._declared(request, view)
        user = request.user
        if not (user and user.is_authenticated):
            return False
        lookup = getattr(view, "lookup_url_kwarg", None) or getattr(view, "lookup_field", "pk")
        # Object-level grants may allow a detail request without a whole-module right;
        # has_object_permission decides then. Lists must filter with .restrict(user, action).
        allowed = engine.can(user, action, module) or getattr(view, "kwargs", {}).get(lookup) is not None
        if allowed and engine.can(user, action, module):
            record_use(user, action, module)
        return allowed

    def has_object_permission(self, request, view, obj) -> bool:
        _module, action = self._declared(request, view)
        allowed = engine.can(request.user, action, obj)
        if allowed:
            record_use(request.user, action, obj)
        return allowed
