"""Fixtures of the workspace and access-request suites: the demo tenants, logged-in clients per persona."""

import pytest
from django.test import Client

from accounts.models import User
from accounts.scoping import dangerously_unscoped, tenant_scope
from permissions.models import Module, Resource


@pytest.fixture(autouse=True)
def _fresh_engine_cache():
    from permissions import engine, usage

    engine.clear_process_cache()
    usage.forget_seen()
    yield
    engine.clear_process_cache()


@pytest.fixture
def demo(db):
    """The demo tenants (acme, globex) with their people, resources, grants and requests."""
    from accounts import demo as demo_data

    return demo_data.seed()


def person(email: str) -> User:
    with dangerously_unscoped():  # test set-up: find a demo login by e-mail, as the login does
        return User.objects.select_related("tenant").get(email=email)


def resource(tenant, code: str) -> Resource:
    with tenant_scope(tenant):
        return Resource.objects.select_related("module").get(external_id=code)


def module(tenant, key: str) -> Module:
    with tenant_scope(tenant):
        return Module.objects.get(key=key)


def client_of(email: str) -> Client:
    from tests.conftest import login

    return login(Client(), person(email), password="portcullis-demo")
