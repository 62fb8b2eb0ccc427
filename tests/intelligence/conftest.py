"""Acme's world for access intelligence: 20 Basic users at Initech. Eight hold a bundle of grants
(analytics: view and export, reports: view), except one who lacks analytics: export (a planted missing
grant); the last one alone holds reports: delete (a planted over-grant). Globex is the other tenant."""

import pytest

from accounts.scoping import tenant_scope
from permissions.models import BuiltinRole, Module
from permissions.services import grants
from permissions.services.organisations import create_organisation, set_user_organisation
from permissions.vocabulary import Action
from tests.factories import UserFactory

BUNDLE = {"analytics": [Action.VIEW, Action.EXPORT], "reports": [Action.VIEW]}


def give(tenant, user, module_key, actions):
    with tenant_scope(tenant):
        return grants.grant(
            actor=None, module=Module.objects.get(key=module_key), user=user, actions=list(actions), reason="work"
        )


@pytest.fixture(autouse=True)
def _fresh_step_up_cache():
    """Who must step up is cached per process: no answer may outlive a rolled-back test."""
    from intelligence import middleware

    middleware.forget()
    yield
    middleware.forget()


@pytest.fixture
def initech(acme):
    with tenant_scope(acme):
        return create_organisation(actor=None, tenant=acme, name="Initech")


@pytest.fixture
def colleagues(acme, initech, acme_admin):
    people = []
    for n in range(20):
        user = UserFactory(tenant=acme, email=f"c{n:02d}@acme.example", role_key=BuiltinRole.BASIC)
        with tenant_scope(acme):
            set_user_organisation(user, initech, actor=None)
        people.append(user)
    for user in people[:8]:
        for module_key, actions in BUNDLE.items():
            if user is people[7] and module_key == "analytics":
                actions = [Action.VIEW]  # the planted missing grant: no export
            give(acme, user, module_key, actions)
    give(acme, people[19], "reports", [Action.DELETE])  # the planted over-grant
    return people


@pytest.fixture
def globex_admin_client(globex_admin):
    from django.test import Client

    from tests.conftest import login

    return login(Client(), globex_admin)


def event_types(tenant, prefix="intelligence.") -> list[str]:
    """The tenant's audit event types starting with ``prefix``, oldest first."""
    from audit.models import AuditEvent

    with tenant_scope(tenant):
        return list(
            AuditEvent.objects.filter(event_type__startswith=prefix)
            .order_by("seq")
            .values_list("event_type", flat=True)
        )
