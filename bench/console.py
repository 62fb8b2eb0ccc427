"""Console pages on a large tenant: users list (first page, a search, a deep page), roles, groups, a
module's resources (first page and a deep page, masked), a user's page with its explained matrix.

Each figure is the server time of a GET through Django's test client (middleware, engine, template), as
median / p99 over the rounds, with the page's query count. Runs in a throw-away test database.
"""

from __future__ import annotations

import statistics
import sys
import time

SCALES = {"small": (5_000, 50_000, 30), "full": (100_000, 1_000_000, 60)}


def _line(name, samples, queries):
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    sys.stdout.write(
        f"{name:<44} p50 {statistics.median(samples) * 1000:7.1f} ms  p99 {p99 * 1000:7.1f} ms  {queries} queries\n"
    )


def run(args) -> None:
    from django.conf import settings
    from django.db import connection
    from django.test import override_settings
    from django.test.utils import setup_test_environment

    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    storages = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    try:
        with override_settings(STORAGES=storages, ALLOWED_HOSTS=["testserver"]):
            _measure(args)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def _fill(tenant, users: int, resources: int) -> None:
    from django.contrib.auth.hashers import make_password

    from accounts.models import User
    from accounts.scoping import tenant_scope
    from permissions.models import Group, GroupMembership, Module, Resource, Role

    started = time.perf_counter()
    password = make_password(None)
    with tenant_scope(tenant):
        roles = list(Role.objects.filter(key__in=["basic", "advanced"]))
        reports = Module.objects.get(key="reports")
        for start in range(0, users, 10_000):
            User.objects.bulk_create(
                User(
                    tenant=tenant,
                    email=f"user{n}@bench.example",
                    full_name=f"Bench User {n}",
                    password=password,
                    role=roles[n % 2],
                )
                for n in range(start, min(users, start + 10_000))
            )
        group = Group.objects.create(auth_group=Group.new_auth_group(), tenant=tenant, name="Big customer")
        ids = list(User.objects.order_by("pk").values_list("pk", flat=True)[: users // 10])
        GroupMembership.objects.bulk_create(GroupMembership(tenant=tenant, group=group, user_id=i) for i in ids)
        for start in range(0, resources, 20_000):
            Resource.objects.bulk_create(
                Resource(tenant=tenant, module=reports, title=f"Report {n:07}", attributes={"revenue": f"{n}M"})
                for n in range(start, min(resources, start + 20_000))
            )
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    sys.stdout.write(f"data: {users} users, {resources} resources ({time.perf_counter() - started:.0f} s)\n")


def _measure(args) -> None:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.scoping import tenant_scope
    from accounts.services import create_tenant, create_user
    from permissions.models import Module, Role
    from tests.accounts.mfa_helpers import verified_force_login

    users, resources, rounds = SCALES[args.scale]
    tenant = create_tenant(name="Bench", slug="bench")
    with tenant_scope(tenant):
        admin_role = Role.objects.get(key="administrator")
    admin = create_user(tenant=tenant, email="admin@bench.example", password=None, role=admin_role)
    _fill(tenant, users, resources)
    with tenant_scope(tenant):
        reports = Module.objects.get(key="reports").pk
        someone = type(admin).objects.get(email="user7@bench.example").pk
    client = verified_force_login(Client(), admin)
    pages = [
        ("users, first page", "/console/users/"),
        ("users, search 'user4242'", "/console/users/?q=user4242"),
        ("users, page 100", "/console/users/?page=100"),
        ("roles", "/console/roles/"),
        ("groups", "/console/groups/"),
        ("reports resources, first page (masked)", f"/console/modules/{reports}/"),
        ("reports resources, page 1000", f"/console/modules/{reports}/?page=1000"),
        ("a user's page (explained matrix)", f"/console/users/{someone}/"),
    ]
    for name, url in pages:
        assert client.get(url).status_code == 200, url
        with CaptureQueriesContext(connection):
            response = client.get(url)
            queries = len(connection.queries_log)  # the log restarts with each request
        assert response.status_code == 200, (url, response.status_code)
        samples = []
        for _ in range(rounds):
            started = time.perf_counter()
            client.get(url)
            samples.append(time.perf_counter() - started)
        _line(name, samples, queries)
