"""AZ-3: deny by default. Every view declares the permission it needs, or that it is public or login-only."""

import pytest
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver
from django.views import View
from rest_framework.views import APIView

from permissions.drf import EnginePermission
from permissions.views import LOGIN_ONLY, PUBLIC, EngineRequiredMixin, declaration_of, requires
from permissions.vocabulary import Action

# Django's admin belongs to platform operators and has its own staff check (tested with the portal).
EXCLUDED = ("platform-admin/",)


def walk(resolver, prefix=""):
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from walk(entry, route)
        elif isinstance(entry, URLPattern):
            yield route, entry.callback


def test_az3_every_view_declares_its_permission():
    undeclared = []
    for route, callback in walk(get_resolver()):
        if route.startswith(EXCLUDED):
            continue
        declared = declaration_of(callback)
        if declared in (PUBLIC, LOGIN_ONLY):
            continue
        if not (isinstance(declared, tuple) and isinstance(declared[1], Action)):
            undeclared.append(route)
    assert not undeclared, f"views without a declared permission: {undeclared}"


def test_az3_a_view_without_a_declaration_fails_loudly():
    class Forgetful(EngineRequiredMixin, View):
        def get(self, request):
            return HttpResponse("data")

    with pytest.raises(ImproperlyConfigured):
        Forgetful.as_view()


def test_az3_declared_class_view_enforces_through_the_engine(rf: RequestFactory, acme_basic, acme_advanced):
    class ReportList(EngineRequiredMixin, View):
        permission = ("reports", Action.VIEW)

        def get(self, request):
            return HttpResponse("reports")

    view = ReportList.as_view()
    assert declaration_of(view) == ("reports", Action.VIEW)
    request = rf.get("/reports/")
    request.user = acme_basic
    with pytest.raises(PermissionDenied):
        view(request)
    request.user = acme_advanced
    assert view(request).status_code == 200


def test_az3_declared_function_view(rf, acme_basic):
    @requires("reports", Action.EXPORT)
    def export(request):
        return HttpResponse("csv")

    assert declaration_of(export) == ("reports", Action.EXPORT)
    request = rf.get("/x")
    request.user = acme_basic
    with pytest.raises(PermissionDenied):
        export(request)


def test_drf_permission_class_needs_a_declaration(rf, acme_basic):
    class Undeclared(APIView):
        permission_classes = [EnginePermission]

    request = rf.get("/api/x")
    request.user = acme_basic
    with pytest.raises(ImproperlyConfigured):
        EnginePermission().has_permission(request, Undeclared())

    class Products(APIView):
        permission_classes = [EnginePermission]
        permission_module = "products"

    assert EnginePermission().has_permission(request, Products())
    assert declaration_of(Products.as_view()) == ("products", Action.VIEW)
    assert declaration_of(Undeclared.as_view()) is None
    post = rf.post("/api/x")
    post.user = acme_basic
    assert not EnginePermission().has_permission(post, Products())
