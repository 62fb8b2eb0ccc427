"""AZ-5 across processes: a revocation made in one OS process is obeyed by another on its next request
(PostgreSQL: the version is a database row raised in the change's transaction, read once per request;
each answer below is (allowed, queries): a warm request reads that row and nothing else)."""

import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.db import connection

from accounts.scoping import tenant_scope
from permissions.services import grants
from permissions.services import modules as module_services
from permissions.services import roles as role_services
from permissions.vocabulary import Action
from tests.factories import TenantFactory, UserFactory
from tests.permissions.conftest import make_resource, module

CHILD = r"""
import os, sys
import django
django.setup()
from django.db import connection
from django.test.utils import CaptureQueriesContext
from accounts.models import User
from accounts.scoping import dangerously_unscoped
from permissions import engine
from permissions.models import Resource
from permissions.versioning import request_versions
from permissions.vocabulary import Action

user_id, resource_id = int(sys.argv[1]), int(sys.argv[2])
with dangerously_unscoped():
    resource = Resource.objects.get(pk=resource_id)
print("ready", flush=True)
for line in sys.stdin:
    with dangerously_unscoped():
        user = User.objects.get(pk=user_id)  # as the session middleware does on each request
    with request_versions(), CaptureQueriesContext(connection) as queries:
        allowed = engine.can(user, Action.VIEW, resource)
    print(f"{allowed} {len(queries)}", flush=True)
"""


MODULE_CHILD = r"""
import sys
import django
django.setup()
from django.db import connection
from django.test.utils import CaptureQueriesContext
from accounts.models import User
from accounts.scoping import dangerously_unscoped
from permissions import engine
from permissions.versioning import request_versions
from permissions.vocabulary import Action

print("ready", flush=True)
for line in sys.stdin:
    user_id, action, key = line.split()
    with dangerously_unscoped():
        user = User.objects.get(pk=int(user_id))
    with request_versions(), CaptureQueriesContext(connection) as queries:
        allowed = engine.can(user, Action(action), key)
    print(f"{allowed} {len(queries)}", flush=True)
"""


def _child_env():
    db = connection.settings_dict
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.test_settings",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
    }


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_role_matrix_change_or_a_new_module_in_one_process_is_seen_by_another_at_once():
    """The module keys and the role matrix cached in another process's compiled sets are replaced on its
    next request after the change commits."""
    tenant = TenantFactory(name="Acme Trading", slug="acme")
    admin = UserFactory(tenant=tenant, email="admin@acme.example", role_key="administrator")
    analyst = UserFactory(tenant=tenant, email="analyst@acme.example", role_key="advanced")
    child = subprocess.Popen(
        [sys.executable, "-c", MODULE_CHILD],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=_child_env(),
        text=True,
        cwd=str(settings.BASE_DIR),
    )
    try:
        assert child.stdout.readline().strip() == "ready"

        def ask(user, action, key):
            child.stdin.write(f"{user.pk} {action.value} {key}\n")
            child.stdin.flush()
            allowed, queries = child.stdout.readline().split()
            return allowed == "True", int(queries)

        assert ask(analyst, Action.EXPORT, "reports") == (True, 2)  # the version row, the set
        assert ask(analyst, Action.EXPORT, "reports") == (True, 1)  # warm in the other process: the row only
        assert ask(admin, Action.VIEW, "contracts") == (False, 2)
        with tenant_scope(tenant):
            role_services.set_role_matrix(analyst.role, {"reports": [Action.VIEW]}, actor=admin)
        assert ask(analyst, Action.EXPORT, "reports") == (False, 2)
        assert ask(analyst, Action.VIEW, "reports") == (True, 1)
        with tenant_scope(tenant):
            module_services.create_module(actor=admin, tenant=tenant, name="Contracts")
        assert ask(admin, Action.VIEW, "contracts") == (True, 2)
        assert ask(analyst, Action.VIEW, "contracts") == (False, 2)
        with tenant_scope(tenant):
            role_services.set_role_matrix(analyst.role, {"contracts": [Action.VIEW]}, actor=admin)
        assert ask(analyst, Action.VIEW, "contracts") == (True, 2)
        assert ask(analyst, Action.VIEW, "reports") == (False, 1)
    finally:
        child.stdin.close()
        child.wait(timeout=30)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_az5_a_revocation_in_one_process_is_obeyed_by_another_at_once():
    tenant = TenantFactory(name="Acme Trading", slug="acme")
    admin = UserFactory(tenant=tenant, email="admin@acme.example", role_key="administrator")
    customer = UserFactory(tenant=tenant, email="customer@acme.example", role_key="basic")
    report = make_resource(tenant, "reports", "Q3 revenue")
    with tenant_scope(tenant):
        grant = grants.grant(
            actor=admin,
            module=module(tenant, "reports"),
            resource=report,
            user=customer,
            actions=[Action.VIEW],
            reason="project",
        )
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(customer.pk), str(report.pk)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=_child_env(),
        text=True,
        cwd=str(settings.BASE_DIR),
    )
    try:
        assert child.stdout.readline().strip() == "ready"

        def ask():
            child.stdin.write("check\n")
            child.stdin.flush()
            allowed, queries = child.stdout.readline().split()
            return allowed == "True", int(queries)

        assert ask() == (True, 2)  # cold: the version row, then the set
        assert ask() == (True, 1)  # warm: the version row, then the other process's cached set
        with tenant_scope(tenant):
            grants.revoke(grant, actor=admin, reason="left the project")
        assert ask() == (False, 2)  # the very next request in the other process refuses
        with tenant_scope(tenant):
            grants.grant(
                actor=admin,
                module=module(tenant, "reports"),
                resource=report,
                user=customer,
                actions=[Action.VIEW],
                reason="back on the project",
            )
        assert ask() == (True, 2)
    finally:
        child.stdin.close()
        child.wait(timeout=30)
