"""Views declare, base classes enforce (AZ-3): every view says which (module, action) it needs, or that
it is public or for any logged-in user. A view that declares nothing raises ImproperlyConfigured.

- Class-based views: inherit ``EngineRequiredMixin`` and set ``permission = (module key, Action)``;
  or set ``login_only = True`` / ``public = True`` explicitly.
- Function views: decorate with ``requires(module, action)``, ``login_only`` or ``public``.
- Detail views fetch with ``get_visible_or_404`` (404 for other tenants' ids and for rows the user
  may not see, the same answer for both).
"""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import AccessMixin
from django.core.exceptions import ImproperlyConfigured, PermissionDenied

from accounts.lookups import get_in_tenant_or_404
from permissions import engine
from permissions.usage import record_use
from permissions.vocabulary import Action

PUBLIC = "public"
LOGIN_ONLY = "login_only"


def declaration_of(callback) -> object | None:
    """What a URL's view declares: ("module", Action), PUBLIC, LOGIN_ONLY, or None (undeclared)."""
    declared = getattr(callback, "authz", None)
    if declared is not None:
        return declared
    view_class = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
    if view_class is not None:
        if getattr(view_class, "authz", None) is not None:
            return view_class.authz
        module = getattr(view_class, "permission_module", None)
        if module and any(getattr(c, "engine_backed", False) for c in getattr(view_class, "permission_classes", ())):
            return str(module), Action(getattr(view_class, "permission_action", None) or Action.VIEW)
        return getattr(view_class, "authz_declaration", lambda: None)()
    return None


def public(view):
    """Mark a function view as open to anonymous users (login, health checks)."""
    view.authz = PUBLIC
    return view


def login_only(view):
    """Any logged-in user (their own pages: home, profile)."""
    wrapped = login_required(view)
    wrapped.authz = LOGIN_ONLY
    return wrapped


class ModuleRefused(PermissionDenied):
    """403 for a page that needs ``action`` on ``module``: the error page names it and offers to ask."""

    def __init__(self, module: str, action: Action):
        self.module, self.action = str(module), Action(action)
        super().__init__(f"{self.module}:{self.action.value}")


def requires(module: str, action: Action):
    """A function view that needs ``action`` on the whole ``module``."""
    action = Action(action)

    def decorate(view):
        @login_required
        @wraps(view)
        def checked(request, *args, **kwargs):
            if not engine.can(request.user, action, module):
                raise ModuleRefused(module, action)
            record_use(request.user, action, module)
            return view(request, *args, **kwargs)

        checked.authz = (str(module), action)
        return checked

    return decorate


class EngineRequiredMixin(AccessMixin):
    """Base of every portal class-based view: enforces the declared permission through the engine."""

    permission: tuple[str, Action] | None = None
    login_only: bool = False
    public: bool = False

    @classmethod
    def authz_declaration(cls):
        """The declaration, or ImproperlyConfigured when the view declares nothing (deny by default)."""
        if cls.public:
            return PUBLIC
        if cls.login_only:
            return LOGIN_ONLY
        if cls.permission is None:
            raise ImproperlyConfigured(
                f"{cls.__name__} must declare permission = (module, Action), or login_only/public = True"
            )
        module, action = cls.permission
        return str(module), Action(action)

    @classmethod
    def as_view(cls, **initkwargs):
        cls.authz_declaration()  # fail at URL loading, not at the first request
        return super().as_view(**initkwargs)

    def dispatch(self, request, *args, **kwargs):
        declared = self.authz_declaration()
        if declared == PUBLIC:
            return super().dispatch(request, *args, **kwargs)
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if declared != LOGIN_ONLY:
            module, action = declared
            if not engine.can(request.user, action, module):
                raise ModuleRefused(module, action)
            record_use(request.user, action, module)
        return super().dispatch(request, *args, **kwargs)


def get_visible_or_404(request, action, queryset, **lookup):
    """One object the user may ``action``: 404 when missing, foreign or not visible to them."""
    return get_in_tenant_or_404(queryset.restrict(request.user, action), request, **lookup)
