"""The API's base views: tenant scope, declarations, one owner of get_queryset/get_object.

PostHog/Sentry style: a concrete viewset is a few attributes (``model``, ``permission_module``,
``serializer_class``) and may narrow its rows in ``narrow(queryset)``; it cannot override
``get_queryset`` or ``get_object`` (``TypeError`` at import). Every queryset is the model's
tenant-scoped manager *and* an explicit filter on the request's tenant; a detail lookup that misses
answers 404 whether the id is missing, another tenant's (recorded as a denied event, LOG-8) or not
visible to the caller (AZ-1).
"""

from __future__ import annotations

from contextlib import ExitStack

from django.utils.translation import gettext as _
from rest_framework import exceptions, pagination, viewsets
from rest_framework.views import APIView

from accounts.lookups import _record_if_foreign
from accounts.scoping import tenant_scope
from api.permissions import DenyByDefault, ModulePermission, tenant_user
from permissions.views import LOGIN_ONLY, PUBLIC
from permissions.vocabulary import Action


class TenantScopedMixin:
    """Runs the handler inside the authenticated user's tenant scope (API keys bypass the session
    middleware, so the scope is entered here, right after authentication)."""

    permission_classes = [DenyByDefault]
    #: what the view declares for AZ-3: (module key, Action), PUBLIC or LOGIN_ONLY
    authz: object = None

    @classmethod
    def authz_declaration(cls):
        """The declaration walked by tests/permissions/test_declarations.py."""
        if cls.authz is not None:
            return cls.authz
        module = getattr(cls, "permission_module", None)
        return (str(module), Action.VIEW) if module else None

    def dispatch(self, request, *args, **kwargs):
        self._scopes = ExitStack()
        with self._scopes:
            return super().dispatch(request, *args, **kwargs)

    def perform_authentication(self, request):
        user = request.user  # runs the authenticators
        if tenant_user(user):
            request._request.tenant = user.tenant
            self._scopes.enter_context(tenant_scope(user.tenant))


class TenantAPIView(TenantScopedMixin, APIView):
    """A plain API view of one tenant."""


class IdCursorPagination(pagination.CursorPagination):
    """Keyset pagination on the primary key: constant cost on any page, stable under inserts."""

    ordering = "id"
    page_size = 50

    def get_ordering(self, request, queryset, view):
        return (getattr(view, "cursor_ordering", None) or self.ordering,)

    page_size_query_param = "limit"
    max_page_size = 200

    def get_page_size(self, request):
        """``limit`` between 1 and max_page_size; anything else is a 400, not silently the default."""
        raw = request.query_params.get(self.page_size_query_param)
        if raw in (None, ""):
            return self.page_size
        if not (raw.isascii() and raw.isdigit() and 1 <= int(raw) <= self.max_page_size):
            raise exceptions.ValidationError(
                {self.page_size_query_param: [_("An integer from 1 to %(max)s.") % {"max": self.max_page_size}]}
            )
        return int(raw)


class TenantViewSet(TenantScopedMixin, viewsets.GenericViewSet):
    """Base of every resource viewset: owns get_queryset/get_object; subclasses narrow with ``narrow``."""

    model = None
    permission_module: str | None = None
    permission_action: Action | None = None  # set per @action when the method's action is not the one
    permission_classes = [ModulePermission]
    pagination_class = IdCursorPagination
    lookup_field = "pk"
    lookup_value_regex = r"[0-9]{1,18}"  # within the database's integer range (a longer id is simply 404)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for name in ("get_queryset", "get_object"):
            if name in cls.__dict__:
                raise TypeError(f"{cls.__name__} must not override {name}(): narrow rows in narrow(queryset) instead")

    def check_permissions(self, request):
        if request.method.lower() not in getattr(self, "action_map", {}):
            return  # http_method_not_allowed answers: 404 for a foreign or missing id, else 405
        super().check_permissions(request)

    def http_method_not_allowed(self, request, *args, **kwargs):
        # The id first: another tenant's (or a missing) id is 404 whatever the method (AZ-1).
        if (self.lookup_url_kwarg or self.lookup_field) in self.kwargs:
            self.get_object()
        return super().http_method_not_allowed(request, *args, **kwargs)

    def narrow(self, queryset):
        """Subclass hook: filter (never widen) the tenant's rows, e.g. with engine.visible."""
        return queryset

    def get_queryset(self):
        tenant = getattr(self.request, "tenant", None)
        if self.model is None or tenant is None:
            return self.model.objects.none() if self.model else []
        # The scoped manager already filters by the active tenant; the explicit filter is the
        # second line of defence (Zulip's assert), so a narrow() can never widen past the tenant.
        queryset = self.narrow(self.model.objects.all())
        return queryset.filter(tenant_id=tenant.pk)

    def get_object(self):
        queryset = self.filter_queryset(self.get_queryset())
        lookup_kwarg = self.lookup_url_kwarg or self.lookup_field
        value = self.kwargs.get(lookup_kwarg)
        try:
            obj = queryset.get(**{self.lookup_field: value})
        except (self.model.DoesNotExist, ValueError, TypeError):
            _record_if_foreign(self.model, self.request, {self.lookup_field: value})
            raise exceptions.NotFound() from None
        if obj.tenant_id != self.request.tenant.pk:  # unreachable through the scoped manager
            raise exceptions.NotFound()
        self.check_object_permissions(self.request, obj)
        return obj


__all__ = ["LOGIN_ONLY", "PUBLIC", "IdCursorPagination", "TenantAPIView", "TenantViewSet"]
