"""Permission classes of the API: declarations, enforced through the engine and the key's scopes.

- ``DenyByDefault`` is DRF's default permission class here: a view that declares nothing serves nothing.
- ``ModulePermission`` needs the view's ``permission_module`` and the action of the method (or the
  view's ``permission_action``), from the engine for the user *and* from the API key's scopes.
- ``ObjectLevel`` only needs an authenticated tenant user; the view filters with ``engine.visible``
  and its services check each write (resources: rights come per object).
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured
from rest_framework.permissions import BasePermission

from api.input import as_ascii_id
from api.models import ApiKey
from permissions import engine
from permissions.usage import record_use
from permissions.vocabulary import Action

SAFE = frozenset({"GET", "HEAD", "OPTIONS"})
BY_METHOD = {"POST": Action.CREATE, "PUT": Action.CHANGE, "PATCH": Action.CHANGE, "DELETE": Action.DELETE}


def as_id(value) -> int | None:
    """A database id from text or a number (1 to 18 digits), else None (never an overflowing query)."""
    return as_ascii_id(value)  # ASCII digits only (str.isdigit accepts "²" and "١")


def key_of(request) -> ApiKey | None:
    """The API key of the request (None for the portal's session)."""
    auth = getattr(request, "auth", None)
    return auth if isinstance(auth, ApiKey) else None


def key_allows(request, module_key: str, action) -> bool:
    """True for a session, or when the request's key names ``action`` on ``module_key``."""
    key = key_of(request)
    return key is None or key.allows(module_key, action)


def tenant_user(user) -> bool:
    """An authenticated, active user of a tenant (never a platform operator)."""
    return bool(user and user.is_authenticated and user.is_active and getattr(user, "tenant_id", None))


def may(request, action, module_key: str) -> bool:
    """The engine and the key both allow ``action`` on the whole module (usage recorded on success)."""
    user = request.user
    if not (tenant_user(user) and key_allows(request, module_key, action) and engine.can(user, action, module_key)):
        return False
    record_use(user, action, module_key)
    return True


class DenyByDefault(BasePermission):
    """Refuses everything: the default of every API view until it declares what it needs."""

    def has_permission(self, request, view) -> bool:
        return False


class ModulePermission(BasePermission):
    """Needs ``view.permission_module`` and the method's action, from the engine and the key's scopes."""

    def has_permission(self, request, view) -> bool:
        module = getattr(view, "permission_module", None)
        if not module:
            raise ImproperlyConfigured(f"{type(view).__name__} must declare permission_module")
        action = getattr(view, "permission_action", None) or (
            Action.VIEW if request.method in SAFE else BY_METHOD.get(request.method)
        )
        if action is None:
            return False
        return may(request, Action(action), str(module))


class ObjectLevel(BasePermission):
    """An authenticated tenant user; the view answers per object through the engine."""

    def has_permission(self, request, view) -> bool:
        return tenant_user(request.user)


class ScimPermission(BasePermission):
    """A SCIM request: a key with the SCIM flag, then the module action like ``ModulePermission``."""

    def has_permission(self, request, view) -> bool:
        key = key_of(request)
        if key is None or not key.scim:
            return False
        return ModulePermission().has_permission(request, view)


def allowed_any(request, module_key: str, actions) -> list:
    """Those of ``actions`` that the key names on ``module_key`` and the engine allows the user."""
    user = request.user
    if not tenant_user(user):
        return []
    return [a for a in actions if key_allows(request, module_key, a) and engine.can(user, a, module_key)]


class PerActionPermission(BasePermission):
    """For endpoints whose rows depend on who asks (requests, review items): ``view.rights`` maps each
    viewset action to the actions on ``view.permission_module`` of which one suffices. The key must name
    it and, unless ``view.rights_need_engine`` is False (everyone may use the endpoint for their own
    rows, as in the portal), the engine must allow it at module level too. An action the view does not
    list is refused. Rows are then narrowed, and each write decided, per object by the services.
    """

    def has_permission(self, request, view) -> bool:
        if not tenant_user(request.user):
            return False
        module = str(view.permission_module)
        needed = view.rights.get(getattr(view, "action", None) or "", ())
        if not getattr(view, "rights_need_engine", True):
            return any(key_allows(request, module, a) for a in needed)
        return bool(allowed_any(request, module, needed))
