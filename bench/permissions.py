"""Permission engine benchmark on PostgreSQL, side by side with django-guardian and pycasbin.

``python -m bench --only permissions [--scale small|full]``. Full: one tenant with 100,000 users,
1,000,000 resources and 2,000,000 grants (plus their guardian rows, direct and generic); small: 1/20.
The data is generated once per scale with COPY (indexes dropped and rebuilt) and reused by later runs.
Prints p50/p99 of: warm ``can``, cold ``can`` (+ queries), the first page of 50 from ``visible`` for a
user with 10 and one with 100,000 accessible objects, ``explain``; then guardian's
``ObjectPermissionChecker`` and ``get_objects_for_user`` (direct and generic FK) and pycasbin (RBAC
with domains) on the same data.
"""

from __future__ import annotations

import random
import sys
import time
import uuid
from array import array
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

SCALES = {"full": (100_000, 1_000_000, 2_000_000), "small": (5_000, 50_000, 100_000)}
GROUPS = {"full": 1_000, "small": 50}
BIG = {"full": 100_000, "small": 5_000}  # objects accessible to the "big" user
SEED = 20261129


def out(text: str = "") -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def ensure_database() -> None:
    """Create the benchmark database when missing, then migrate it."""
    import psycopg
    from django.core.management import call_command
    from django.db import connection

    settings = connection.settings_dict
    if connection.vendor != "postgresql":
        raise SystemExit("the permissions benchmark needs PostgreSQL (DATABASE_URL=postgres://...)")
    admin = psycopg.connect(
        host=settings["HOST"] or "127.0.0.1",
        port=settings["PORT"] or 5432,
        user=settings["USER"],
        password=settings["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    )
    exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [settings["NAME"]]).fetchone()
    if not exists:
        admin.execute(f'CREATE DATABASE "{settings["NAME"]}"')
    admin.close()
    call_command("migrate", verbosity=0)


def timed(fn, n: int) -> tuple[float, float]:
    """(p50, p99) in microseconds of ``n`` calls of ``fn(i)``."""
    samples = []
    clock = time.perf_counter_ns
    for i in range(n):
        start = clock()
        fn(i)
        samples.append(clock() - start)
    samples.sort()
    return samples[len(samples) // 2] / 1000, samples[min(len(samples) - 1, int(len(samples) * 0.99))] / 1000


def fmt(label: str, p50_p99: tuple[float, float], extra: str = "") -> None:
    p50, p99 = p50_p99

    def unit(us):
        return f"{us:.2f} µs" if us < 1000 else f"{us / 1000:.2f} ms"

    out(f"  {label:<58} p50 {unit(p50):>10}   p99 {unit(p99):>10}   {extra}")


# ---------------------------------------------------------------------------------------------- data


@contextmanager
def without_indexes(cursor, tables):
    """Drop the plain indexes of ``tables`` for a bulk load and rebuild them after."""
    cursor.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s) AND indexname NOT IN "
        "(SELECT conname FROM pg_constraint)",
        [list(tables)],
    )
    saved = cursor.fetchall()
    for name, _definition in saved:
        cursor.execute(f'DROP INDEX "{name}"')
    yield
    for _name, definition in saved:
        cursor.execute(definition)


def copy_rows(cursor, table: str, columns: list[str], rows) -> int:
    count = 0
    with cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


def next_id(cursor, table: str) -> int:
    cursor.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}")
    return cursor.fetchone()[0]


def fix_sequence(cursor, table: str, column: str = "id") -> None:
    cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), (SELECT MAX({column}) FROM {table}))")


class World:
    """The generated tenant: ids the measurements need."""

    tenant = None
    small_user_id = big_user_id = 0
    user_ids: tuple[int, int] = (0, 0)
    resource_ids: tuple[int, int] = (0, 0)
    reports_id = 0


def generate(scale: str) -> World:
    """Generate (or find) the benchmark tenant of this scale."""
    from django.contrib.auth.models import Permission
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection, transaction

    from accounts import services as account_services
    from accounts.models import Tenant, User
    from accounts.scoping import dangerously_unscoped, tenant_scope
    from permissions.models import (
        Grant,
        Group,
        GroupMembership,
        Module,
        Resource,
        ResourceGroupPermission,
        ResourceUserPermission,
        Role,
    )
    from permissions.vocabulary import Action

    n_users, n_resources, n_grants = SCALES[scale]
    n_groups, big = GROUPS[scale], BIG[scale]
    slug = f"bench-{scale}"
    world = World()
    with dangerously_unscoped():
        tenant = Tenant.objects.filter(slug=slug).first()
        if tenant is not None:
            users = User.objects.filter(tenant=tenant).order_by("id").values_list("id", flat=True)
            world.tenant = tenant
            first_user = users.first()
            world.small_user_id, world.big_user_id = first_user, first_user + 1
            world.user_ids = (first_user, users.last())
            ids = Resource.objects.filter(tenant=tenant).order_by("id").values_list("id", flat=True)
            world.resource_ids = (ids.first(), ids.last())
            world.reports_id = Module.objects.get(tenant=tenant, key="reports").pk
            out(
                f"  reusing tenant {slug}: {users.count():,} users, {ids.count():,} resources, "
                f"{Grant.objects.filter(tenant=tenant).count():,} grants"
            )
            return world
    out(f"  generating tenant {slug}: {n_users:,} users, {n_resources:,} resources, {n_grants:,} grants …")
    started = time.monotonic()
    rng = random.Random(SEED)
    now = datetime.now(UTC)
    loading = transaction.atomic()
    loading.__enter__()  # one transaction: a failed load leaves no half tenant behind
    tenant = account_services.create_tenant(name=f"Bench {scale}", slug=slug)
    world.tenant = tenant
    with tenant_scope(tenant):
        modules = {m.key: m.pk for m in Module.objects.all()}
        roles = {r.key: r.pk for r in Role.objects.all()}
    business = [modules["products"], modules["reports"], modules["analytics"]]
    world.reports_id = modules["reports"]
    content_type = ContentType.objects.get_for_model(Resource)
    perm_ids = {p.codename: p.pk for p in Permission.objects.filter(content_type=content_type)}
    view_perm, export_perm = perm_ids["view_resource"], perm_ids["export_resource"]
    view_bit, export_bit = Action.VIEW.bit, Action.EXPORT.bit
    t = {
        m._meta.model_name: m._meta.db_table
        for m in (User, Resource, Grant, Group, GroupMembership, ResourceUserPermission, ResourceGroupPermission)
    }
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit = off")
        # The rows are consistent by construction: skip per-row foreign-key triggers during the load.
        cursor.execute("SET LOCAL session_replication_role = replica")
        first_user = next_id(cursor, t["user"])
        first_resource = next_id(cursor, t["resource"])
        first_grant = next_id(cursor, t["grant"])
        cursor.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM auth_group")
        first_group = cursor.fetchone()[0]
        world.small_user_id, world.big_user_id = first_user, first_user + 1
        world.user_ids = (first_user, first_user + n_users - 1)
        world.resource_ids = (first_resource, first_resource + n_resources - 1)
        role_for = [roles["basic"]] * 90 + [roles["advanced"]] * 9 + [roles["administrator"]]
        copy_rows(
            cursor,
            t["user"],
            [
                "id",
                "password",
                "is_superuser",
                "email",
                "full_name",
                "tenant_id",
                "role_id",
                "is_active",
                "is_staff",
                "date_joined",
                "language",
            ],
            (
                (
                    first_user + i,
                    "!",
                    False,
                    f"user{i}@{slug}.example",
                    f"User {i}",
                    tenant.pk,
                    roles["basic"] if i < 2 else role_for[i % 100],
                    True,
                    False,
                    now,
                    "",
                )
                for i in range(n_users)
            ),
        )
        fix_sequence(cursor, t["user"])
        copy_rows(
            cursor, "auth_group", ["id", "name"], ((first_group + g, f"portcullis:{slug}:{g}") for g in range(n_groups))
        )
        fix_sequence(cursor, "auth_group")
        copy_rows(
            cursor,
            t["group"],
            ["auth_group_id", "tenant_id", "name", "description", "kind", "created_at"],
            ((first_group + g, tenant.pk, f"Company {g}", "", "company", now) for g in range(n_groups)),
        )
        members = []
        for i in range(2, n_users):
            for g in rng.sample(range(n_groups), rng.choice((0, 1, 1, 2))):
                members.append((first_user + i, first_group + g))
        members.append((world.big_user_id, first_group))  # the big user's company
        copy_rows(
            cursor,
            t["groupmembership"],
            ["tenant_id", "group_id", "user_id", "is_owner", "added_at"],
            ((tenant.pk, g, u, False, now) for u, g in members),
        )
        copy_rows(cursor, "accounts_user_groups", ["user_id", "group_id"], members)
        with without_indexes(cursor, [t["resource"]]):
            copy_rows(
                cursor,
                t["resource"],
                [
                    "id",
                    "tenant_id",
                    "module_id",
                    "title",
                    "description",
                    "attributes",
                    "uid",
                    "created_at",
                    "updated_at",
                ],
                (
                    (
                        first_resource + i,
                        tenant.pk,
                        business[i % 3],
                        f"Resource {i}",
                        "",
                        '{"region": "EMEA"}',  # no sensitive value: those live encrypted (sealed_attributes)
                        uuid.uuid4(),
                        now,
                        now,
                    )
                    for i in range(n_resources)
                ),
            )
        fix_sequence(cursor, t["resource"])
        # Grants: compact arrays (subject, group flag, resource or 0 for module-level, mask, expiry code).
        reports = [first_resource + i for i in range(1, n_resources, 3)]
        subject, is_group, target, mask, expiry = array("q"), array("b"), array("q"), array("b"), array("b")

        def add(s, grp, res, m, e):
            subject.append(s)
            is_group.append(grp)
            target.append(res)
            mask.append(m)
            expiry.append(e)

        for res in rng.sample(reports, 10):
            add(world.small_user_id, 0, res, view_bit, 0)
        big_objects = rng.sample(reports, big)
        split = big * 6 // 10
        for res in big_objects[:split]:
            add(world.big_user_id, 0, res, view_bit, 0)
        for res in big_objects[split:]:
            add(first_group, 1, res, view_bit, 0)
        while len(subject) < n_grants:
            grp = rng.random() < 0.1
            s = first_group + rng.randrange(1, n_groups) if grp else first_user + rng.randrange(2, n_users)
            res = 0 if rng.random() < 0.01 else first_resource + rng.randrange(n_resources)
            m = view_bit | export_bit if rng.random() < 0.2 else view_bit
            roll = rng.random()
            add(s, int(grp), res, m, 1 if roll < 0.025 else 2 if roll < 0.05 else 0)
        past, future = now - timedelta(days=3), now + timedelta(days=30)

        def module_of(res):
            return business[(res - first_resource) % 3]

        def grant_rows():
            for i in range(len(subject)):
                res, grp = target[i], is_group[i]
                yield (
                    first_grant + i,
                    tenant.pk,
                    None if grp else subject[i],
                    subject[i] if grp else None,
                    module_of(res) if res else business[i % 3],
                    res or None,
                    mask[i],
                    "benchmark",
                    past if expiry[i] == 1 else future if expiry[i] == 2 else None,
                    "manual",
                    "",
                    now,
                )

        with without_indexes(cursor, [t["grant"]]):
            copy_rows(
                cursor,
                t["grant"],
                [
                    "id",
                    "tenant_id",
                    "user_id",
                    "group_id",
                    "module_id",
                    "resource_id",
                    "actions",
                    "reason",
                    "expires_at",
                    "provenance",
                    "reference",
                    "created_at",
                ],
                grant_rows(),
            )
        fix_sequence(cursor, t["grant"])

        def object_rows(want_group, generic=False):
            seen = set()  # guardian's generic tables are unique per (who, permission, object)
            for i in range(len(subject)):
                res = target[i]
                if not res or is_group[i] != want_group:
                    continue
                exp = past if expiry[i] == 1 else future if expiry[i] == 2 else None
                for bit, perm in ((view_bit, view_perm), (export_bit, export_perm)):
                    if mask[i] & bit:
                        if generic:
                            key = (subject[i] * 4_000_000_000 + res) * 2 + (bit == export_bit)
                            if key not in seen:
                                seen.add(key)
                                yield (perm, content_type.pk, str(res), subject[i])
                        else:
                            yield (perm, subject[i], res, tenant.pk, first_grant + i, bit, exp)

        tables = [
            t["resourceuserpermission"],
            t["resourcegrouppermission"],
            "guardian_userobjectpermission",
            "guardian_groupobjectpermission",
        ]
        with without_indexes(cursor, tables):
            cols = ["permission_id", "{who}", "content_object_id", "tenant_id", "grant_id", "action", "expires_at"]
            rows_user = copy_rows(
                cursor, t["resourceuserpermission"], [c.format(who="user_id") for c in cols], object_rows(0)
            )
            rows_group = copy_rows(
                cursor, t["resourcegrouppermission"], [c.format(who="group_id") for c in cols], object_rows(1)
            )
            generic = ["permission_id", "content_type_id", "object_pk"]
            copy_rows(cursor, "guardian_userobjectpermission", [*generic, "user_id"], object_rows(0, generic=True))
            copy_rows(cursor, "guardian_groupobjectpermission", [*generic, "group_id"], object_rows(1, generic=True))
        out(
            f"  loaded {len(subject):,} grants, {rows_user + rows_group:,} guardian direct-FK rows "
            f"(and as many generic) in {time.monotonic() - started:.0f} s"
        )
    loading.__exit__(None, None, None)  # commit (an exception ends the process, which rolls back)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")  # statistics, and the visibility map for index-only scans
    out(f"  generated and analysed in {time.monotonic() - started:.0f} s")
    return world


# --------------------------------------------------------------------------------------- measurements


def run(args) -> None:
    """Generate (once) and measure."""
    from django.contrib.auth.models import Permission
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    from accounts.models import User
    from accounts.scoping import tenant_scope
    from permissions import engine
    from permissions.models import Resource
    from permissions.versioning import request_versions
    from permissions.vocabulary import Action

    ensure_database()
    world = generate(args.scale)
    tenant = world.tenant
    rng = random.Random(SEED + 1)
    n = 20_000 if args.scale == "full" else 5_000
    with tenant_scope(tenant):
        lo, hi = world.user_ids
        users = {u.pk: u for u in User.objects.filter(pk__in=[lo + rng.randrange(hi - lo) for _ in range(400)])}
        user_list = list(users.values())
        rlo, rhi = world.resource_ids
        resources = list(Resource.objects.filter(pk__in=[rlo + rng.randrange(rhi - rlo) for _ in range(2000)]))
        small = User.objects.get(pk=world.small_user_id)
        big = User.objects.get(pk=world.big_user_id)
        reports = Resource.objects.filter(module_id=world.reports_id).order_by("id")
        mine = list(engine.visible(small, Action.VIEW, reports)[:10])
        out(
            f"\n  users: 10-object user #{small.pk}, 100k-object user #{big.pk}; "
            f"sample of {len(user_list)} users × {len(resources)} resources"
        )

        out("\nPortcullis engine")
        with request_versions():
            for user in user_list[:50]:
                for resource in resources[:200]:
                    engine.can(user, Action.VIEW, resource)
            warm = [(user, resource) for user in user_list[:50] for resource in resources[:200]]
            size, check, view = len(warm), engine.can, Action.VIEW

            def warm_resource(i):
                user, resource = warm[i % size]
                check(user, view, resource)

            fmt("can, warm (resource target)", timed(warm_resource, n * 5))
            fmt("can, warm (module key)", timed(lambda i: engine.can(user_list[i % 50], Action.VIEW, "reports"), n * 5))
        pairs = [(rng.choice(user_list), rng.choice(resources)) for _ in range(n // 5)]

        def cold(i):
            engine.clear_process_cache()
            user, resource = pairs[i % len(pairs)]
            engine.can(user, Action.VIEW, resource)

        timed(cold, 200)  # warm the connection and the plan cache
        with CaptureQueriesContext(connection) as queries:
            cold(0)
        fmt("can, cold (cache miss → database)", timed(cold, n // 5), f"{len(queries)} query")
        engine.clear_process_cache()

        def page(user):
            return lambda i: list(engine.visible(user, Action.VIEW, reports)[:50])

        for label, user in (("10 accessible objects", small), (f"{BIG[args.scale]:,} accessible objects", big)):
            with request_versions():
                page(user)(0)
                with CaptureQueriesContext(connection) as queries:
                    rows = page(user)(0)
                fmt(
                    f"visible, first page of 50 ({label})",
                    timed(page(user), 300),
                    f"{len(rows)} rows, {len(queries)} query",
                )
        fmt(
            "explain (one resource, direct grant)",
            timed(lambda i: engine.explain(small, Action.VIEW, mine[i % len(mine)]), 300),
        )
        with CaptureQueriesContext(connection) as queries:
            page(big)(0)
        plan_sql = queries.captured_queries[-1]["sql"]
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS OFF, TIMING OFF) " + plan_sql)
            plan = [row[0] for row in cursor.fetchall()]
        out("  plan of the 100k-object page: " + " | ".join(line.strip() for line in plan[:6]))
        reset_queries()

        peers(args, world, user_list, resources, small, big, reports, n)
    _ = Permission


def peers(args, world, user_list, resources, small, big, reports, n) -> None:
    """django-guardian (direct and generic FK) and pycasbin on the same data."""
    import guardian.core
    import guardian.shortcuts
    import guardian.utils
    from django.db import OperationalError, connection
    from django.test.utils import CaptureQueriesContext
    from guardian.core import ObjectPermissionChecker
    from guardian.models import GroupObjectPermission, UserObjectPermission
    from guardian.shortcuts import get_objects_for_user

    rng = random.Random(SEED + 2)
    pairs = [(rng.choice(user_list), rng.choice(resources)) for _ in range(2000)]

    def checker(i):
        user, resource = pairs[i % len(pairs)]
        ObjectPermissionChecker(user).has_perm("view_resource", resource)

    def guardian_page(user):
        return lambda i: list(
            get_objects_for_user(
                user, "permissions.view_resource", klass=reports, accept_global_perms=False, with_superuser=False
            )[:50]
        )

    for variant in ("direct FK", "generic FK"):
        out(f"\ndjango-guardian ({variant})")
        with generic_models(variant == "generic FK", UserObjectPermission, GroupObjectPermission):
            timed(checker, 20)
            with CaptureQueriesContext(connection) as queries:
                checker(0)
            fmt(
                "ObjectPermissionChecker(user).has_perm (fresh checker)",
                timed(checker, min(n // 10, 1000)),
                f"{len(queries)} queries",
            )
            for label, user in (("10 accessible objects", small), (f"{BIG[args.scale]:,} accessible objects", big)):
                runs = 3 if variant == "generic FK" else 30
                try:
                    with statement_timeout(connection, 120):
                        fmt(f"get_objects_for_user, first page of 50 ({label})", timed(guardian_page(user), runs))
                except OperationalError:
                    out(f"  get_objects_for_user, first page of 50 ({label}): over 120 s (cancelled)")
    casbin_peer(world, user_list, resources, small)
    _ = (guardian.core, guardian.shortcuts, guardian.utils)


@contextmanager
def statement_timeout(connection, seconds: int):
    """Cancel a statement that runs longer than ``seconds`` (a peer's pathological plan)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SET statement_timeout = {seconds * 1000}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET statement_timeout = 0")


@contextmanager
def generic_models(active: bool, user_model, group_model):
    """Make guardian use its generic-FK tables for Resource (benchmark only; it prefers direct FKs)."""
    import guardian.core
    import guardian.shortcuts
    import guardian.utils

    if not active:
        yield
        return
    saved = {}
    replacements = {
        "get_user_obj_perms_model": lambda obj=None: user_model,
        "get_group_obj_perms_model": lambda obj=None: group_model,
    }
    for module in (guardian.utils, guardian.core, guardian.shortcuts):
        for name, fn in replacements.items():
            if hasattr(module, name):
                saved[(module, name)] = getattr(module, name)
                setattr(module, name, fn)
    try:
        yield
    finally:
        for (module, name), fn in saved.items():
            setattr(module, name, fn)


CASBIN_MODEL = """
[request_definition]
r = sub, dom, obj, act
[policy_definition]
p = sub, dom, obj, act
[role_definition]
g = _, _, _
[policy_effect]
e = some(where (p.eft == allow))
[matchers]
m = r.dom == p.dom && r.obj == p.obj && r.act == p.act && g(r.sub, p.sub, r.dom)
"""


def casbin_peer(world, user_list, resources, small) -> None:
    """pycasbin, RBAC with domains (tenants), fed the same roles, memberships and object grants."""
    import casbin
    from casbin.persist.adapters import FileAdapter

    from permissions.models import Grant, GroupMembership, RolePermission

    out("\npycasbin (RBAC with domains; cheap equality first in the matcher)")
    import logging

    logging.getLogger("casbin").setLevel(logging.WARNING)  # it logs its model at INFO
    tenant = world.tenant
    dom = f"t{tenant.pk}"
    from accounts.scoping import tenant_scope

    with tenant_scope(tenant):
        role_rules = [
            (f"role:{c.role_id}", dom, f"module:{c.module_id}", "view")
            for c in RolePermission.objects.filter(actions__gt=0)
        ]
        grants = Grant.objects.filter(resource__isnull=False).values_list("user_id", "group_id", "resource_id")
        members = GroupMembership.objects.values_list("user_id", "group_id")
        import tempfile
        from pathlib import Path

        folder = Path(tempfile.mkdtemp())
        (folder / "model.conf").write_text(CASBIN_MODEL)
        (folder / "policy.csv").write_text("")
        for size in (10_000, 100_000):
            rules = list(role_rules)
            links = []
            for user_id, group_id, resource_id in grants[:size].iterator():
                who = f"u:{user_id}" if user_id else f"g:{group_id}"
                rules.append((who, dom, f"r:{resource_id}", "view"))
            for user_id, group_id in members[: size // 10].iterator():
                links.append((f"u:{user_id}", f"g:{group_id}", dom))
            for user in user_list:
                links.append((f"u:{user.pk}", f"role:{user.role_id}", dom))
            started = time.monotonic()
            enforcer = casbin.Enforcer(str(folder / "model.conf"), FileAdapter(str(folder / "policy.csv")))
            enforcer.enable_auto_save(False)
            enforcer.add_policies([list(r) for r in rules])
            enforcer.add_named_grouping_policies("g", [list(link) for link in links])
            built = time.monotonic() - started
            rng = random.Random(SEED + 3)
            requests = [
                (f"u:{rng.choice(user_list).pk}", dom, f"r:{rng.choice(resources).pk}", "view") for _ in range(200)
            ]

            def enforce(i, enforcer=enforcer, requests=requests):
                enforcer.enforce(*requests[i % len(requests)])

            def listing(i, enforcer=enforcer):
                enforcer.get_implicit_permissions_for_user(f"u:{small.pk}", dom)[:50]

            fmt(
                f"enforce, {len(rules):,} policies ({built:.1f} s to build)",
                timed(enforce, 100 if size > 10_000 else 300),
            )
            fmt(f"list a user's objects, {len(rules):,} policies", timed(listing, 20))
