"""Permission engine benchmark on PostgreSQL, side by side with django-guardian and pycasbin.

``python -m bench --only permissions [--scale small|full | --quick]``. Full: one tenant with 100,000 users,
1,000,000 resources and 2,000,000 grants (plus their guardian rows, direct and generic); small: 1/20.
The data is generated once per scale with COPY (indexes dropped and rebuilt) and reused by later runs.
The authorization version is the tenant's database row, read once per request, as in production (FC-1).

Prints p50/p99 of, for the engine: warm ``can`` (inside a request), cold ``can`` on random (user,
resource) pairs of the whole tenant (process cache emptied before each, so each reads the version row
and runs the engine's query), a page of 50 checked with ``prefetch``, the first page of 50 from
``visible`` for a user with 10 and one with 100,000 accessible objects, ``explain``. Then each peer at its
documented best, on the same data, with the same measure beside ours: django-guardian with direct foreign
keys and its own
indexes (built for its measurements, dropped after), a reused ``ObjectPermissionChecker``, a fresh one
on the same cold pairs, ``prefetch_perms`` on the same pages, ``get_objects_for_user``, and PostgreSQL's
plans of its queries; pycasbin's ``FastEnforcer`` (RBAC with domains, indexed by domain and object) fed
every live grant, membership and role of the tenant. The share of buffer reads that missed PostgreSQL's
shared_buffers is printed beside the cold rows (the OS page cache still holds the tables: not disk-cold).
"""

from __future__ import annotations

import os
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
                "external_id",
                "family_name",
                "given_name",
                "scim_deleted",
                "scim_user_name",
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
                    "",  # the SCIM columns (issue 9) are NOT NULL: empty, as for a user made in the console
                    "",
                    "",
                    False,
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
            ["auth_group_id", "tenant_id", "name", "description", "kind", "created_at", "external_id"],
            ((first_group + g, tenant.pk, f"Company {g}", "", "company", now, "") for g in range(n_groups)),
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


def buffer_counts(connection) -> tuple[int, int]:
    """(blocks found in shared_buffers, blocks read from outside: the OS page cache or the disk) so far."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_force_next_flush()")
    time.sleep(1.1)  # a backend publishes its counters when idle, at most once a second
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT blks_hit, blks_read FROM pg_stat_database WHERE datname = current_database()")
        return cursor.fetchone()


def buffers_note(connection, before) -> str:
    hit, read = buffer_counts(connection)
    hit, read = hit - before[0], read - before[1]
    return f"{read / max(1, hit + read):.0%} of {hit + read:,} buffer reads missed shared_buffers"


def run(args) -> None:
    """Generate (once) and measure."""
    from django.db import connection
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
    n_cold = 4_000 if args.scale == "full" else 1_000
    out(f"  load average at start: {' '.join(f'{v:.2f}' for v in os.getloadavg())} (2 cores, shared)")
    with connection.cursor() as cursor:
        cursor.execute("SHOW shared_buffers")
        shared_buffers = cursor.fetchone()[0]
        cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        db_size = cursor.fetchone()[0]
    out(f"  database {db_size}, shared_buffers {shared_buffers}")
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

        # The cold working set: random users and resources of the whole tenant (100,000 x 1,000,000 at full
        # scale), far more than the process cache (engine.MAX_USERS sets) or shared_buffers hold.
        def random_pairs():
            users = User.objects.in_bulk([lo + rng.randrange(hi - lo + 1) for _ in range(n_cold)])
            resources = Resource.objects.in_bulk([rlo + rng.randrange(rhi - rlo + 1) for _ in range(n_cold)])
            return list(zip(users.values(), resources.values(), strict=False))

        cold_pairs = random_pairs()
        pages = [list(reports.filter(pk__gte=rlo + rng.randrange(rhi - rlo))[:50]) for _ in range(60)]
        out(
            f"\n  users: 10-object user #{small.pk}, {BIG[args.scale]:,}-object user #{big.pk}; warm sample "
            f"{len(user_list)} users x {len(resources)} resources; cold: {len(cold_pairs):,} random pairs of the tenant"
        )

        out("\nPortcullis engine (version row and grants in PostgreSQL)")
        with request_versions():
            warm = [(user, resource) for user in user_list[:50] for resource in resources[:200]]
            for user, resource in warm:
                engine.can(user, Action.VIEW, resource)
            size, check, view = len(warm), engine.can, Action.VIEW

            def warm_resource(i):
                user, resource = warm[i % size]
                check(user, view, resource)

            fmt("can, warm (in a request: version read once; resource)", timed(warm_resource, n * 5))
            fmt("can, warm (module key)", timed(lambda i: engine.can(user_list[i % 50], Action.VIEW, "reports"), n * 5))

        def cold(i):
            engine.clear_process_cache()
            user, resource = cold_pairs[i % len(cold_pairs)]
            engine.can(user, Action.VIEW, resource)

        for i in range(200):  # the connection and its prepared statement (pairs not measured below)
            engine.clear_process_cache()
            engine.can(user_list[i % len(user_list)], Action.VIEW, resources[i])
        with CaptureQueriesContext(connection) as queries:
            cold(0)
        before = buffer_counts(connection)
        result = timed(cold, len(cold_pairs))
        fmt(
            "can, cold: process cache empty, version row read",
            result,
            f"{len(queries)} query; {buffers_note(connection, before)}",
        )

        def page_checked(i):
            engine.clear_process_cache()
            user, page = user_list[i % len(user_list)], pages[i % len(pages)]
            with request_versions():  # as in a view: the version is read once for the page, not per check
                engine.prefetch(user, page)
                for resource in page:
                    engine.can(user, Action.VIEW, resource)

        with CaptureQueriesContext(connection) as queries:
            page_checked(0)
        fmt(
            "a page of 50 checked, cold (in a request: prefetch + 50 can)",
            timed(page_checked, 300),
            f"{len(queries)} queries",
        )
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
        show_plan(connection, "plan of the 100k-object page", queries.captured_queries[-1]["sql"], 6)

        guardian_peer(args, user_list, resources, cold_pairs, pages, small, big, reports, n)
        casbin_peer(world, user_list, cold_pairs)
    out(f"\n  load average at end: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


def show_plan(connection, label: str, sql: str, lines: int, params=None) -> None:
    """Print the first lines of PostgreSQL's plan of one statement, run (EXPLAIN ANALYZE)."""
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS, TIMING OFF) " + sql, params)
        plan = [row[0] for row in cursor.fetchall()]
    out(f"  {label}:")
    # The top of the plan, then the lines that say how each table is reached (which index, which filter).
    shown = plan[:2] + [row for row in plan[2:] if any(word in row for word in ("Scan", "Index Cond", "Filter:"))]
    for row in shown[:lines]:
        out(f"      {row}")


# guardian's own indexes on its direct-FK tables (guardian's UserObjectPermissionBase/GroupObjectPermissionBase:
# a foreign-key index on each of user/group, permission and content_object, and the unique_together (who,
# permission, content_object), here not unique since two grants may give the same action). Our migrations
# replaced them with tenant-first ones that guardian's queries, which name no tenant, cannot use; they are
# built for the guardian measurements only and dropped after, so the engine is measured on its own schema.
GUARDIAN_INDEXES = {
    "user": ["user_id", "permission_id", "content_object_id"],
    "group": ["group_id", "permission_id", "content_object_id"],
}


@contextmanager
def guardian_indexes(connection):
    from permissions.models import ResourceGroupPermission, ResourceUserPermission

    made = []
    started = time.monotonic()
    with connection.cursor() as cursor:
        for who, model in (("user", ResourceUserPermission), ("group", ResourceGroupPermission)):
            table = model._meta.db_table
            columns = GUARDIAN_INDEXES[who]
            for name, cols in (
                (f"bench_guardian_{who}_perm_obj", columns),
                (f"bench_guardian_{who}", columns[:1]),
                (f"bench_guardian_{who}_permission", ["permission_id"]),
                (f"bench_guardian_{who}_object", ["content_object_id"]),
            ):
                cursor.execute(f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" ({", ".join(cols)})')
                made.append(name)
            cursor.execute(f'ANALYZE "{table}"')
    out(f"  guardian's own indexes built in {time.monotonic() - started:.0f} s: {', '.join(made)}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            for name in made:
                cursor.execute(f'DROP INDEX IF EXISTS "{name}"')


def guardian_peer(args, user_list, resources, cold_pairs, pages, small, big, reports, n) -> None:
    """django-guardian at its documented best: direct foreign keys (its performance guide), its own indexes,
    a reused ObjectPermissionChecker and prefetch_perms; get_objects_for_user for lists."""
    from django.db import OperationalError, connection
    from django.test.utils import CaptureQueriesContext
    from guardian.core import ObjectPermissionChecker
    from guardian.shortcuts import get_objects_for_user

    out("\ndjango-guardian (direct FK, its own indexes; same data)")
    with guardian_indexes(connection):
        checkers = {user.pk: ObjectPermissionChecker(user) for user in user_list[:50]}
        for checker in checkers.values():
            checker.prefetch_perms(resources[:200])  # guardian's way to fill a checker: one query per user
        warm = [(checkers[user.pk], resource) for user in user_list[:50] for resource in resources[:200]]
        size = len(warm)

        def reused(i):
            checker, resource = warm[i % size]
            checker.has_perm("view_resource", resource)

        fmt("reused checker, warm (its cache filled; resource)", timed(reused, n * 5))

        def fresh(i):
            user, resource = cold_pairs[i % len(cold_pairs)]
            ObjectPermissionChecker(user).has_perm("view_resource", resource)

        for i in range(200):
            ObjectPermissionChecker(user_list[i % len(user_list)]).has_perm("view_resource", resources[i])
        with CaptureQueriesContext(connection) as queries:
            fresh(0)
        check_queries = [q["sql"] for q in queries.captured_queries]
        before = buffer_counts(connection)
        result = timed(fresh, len(cold_pairs))
        fmt(
            "fresh checker + has_perm, cold (same random pairs)",
            result,
            f"{len(check_queries)} queries; {buffers_note(connection, before)}",
        )

        def page_checked(i):
            user, page = user_list[i % len(user_list)], pages[i % len(pages)]
            checker = ObjectPermissionChecker(user)
            checker.prefetch_perms(page)
            for resource in page:
                checker.has_perm("view_resource", resource)

        with CaptureQueriesContext(connection) as queries:
            page_checked(0)
        prefetch_queries = [q["sql"] for q in queries.captured_queries]
        fmt(
            "a page of 50 checked, cold (fresh checker + prefetch_perms + 50 has_perm)",
            timed(page_checked, 300),
            f"{len(prefetch_queries)} queries",
        )

        def guardian_page(user):
            return lambda i: list(
                get_objects_for_user(
                    user, "permissions.view_resource", klass=reports, accept_global_perms=False, with_superuser=False
                )[:50]
            )

        list_sql = None
        for label, user in (("10 accessible objects", small), (f"{BIG[args.scale]:,} accessible objects", big)):
            try:
                with statement_timeout(connection, 120):
                    guardian_page(user)(0)
                    with CaptureQueriesContext(connection) as queries:
                        guardian_page(user)(0)
                    list_sql = queries.captured_queries[-1]["sql"]
                    fmt(f"get_objects_for_user, first page of 50 ({label})", timed(guardian_page(user), 30))
            except OperationalError:
                out(f"  get_objects_for_user, first page of 50 ({label}): over 120 s (cancelled)")
        for label, sql in (
            ("plan of has_perm's user query", check_queries[0]),
            ("plan of has_perm's group query", check_queries[-1]),
            ("plan of prefetch_perms' user query", prefetch_queries[-2] if len(prefetch_queries) > 1 else None),
            ("plan of get_objects_for_user's page (100k objects)", list_sql),
        ):
            if sql:
                show_plan(connection, label, sql, 12)


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


def casbin_peer(world, user_list, cold_pairs) -> None:
    """pycasbin's FastEnforcer (policies indexed by domain and object, the index its docs recommend for this
    matcher), RBAC with domains (tenants), fed every live grant of the tenant (the same data as the engine:
    object grants, module grants, role matrix cells, group memberships, every user's role)."""
    import logging
    import resource as rusage
    import tempfile
    from pathlib import Path

    import casbin

    from accounts.models import User
    from permissions.models import Grant, GroupMembership, RolePermission
    from permissions.vocabulary import Action

    logging.getLogger("casbin").setLevel(logging.WARNING)  # it logs its model at INFO
    out("\npycasbin FastEnforcer (RBAC with domains, indexed by domain and object; same data)")
    dom = f"t{world.tenant.pk}"
    now = datetime.now(UTC)
    view = Action.VIEW.bit
    started = time.monotonic()
    rss_before = rusage.getrusage(rusage.RUSAGE_SELF).ru_maxrss
    rules = [
        [f"role:{c.role_id}", dom, f"module:{c.module_id}", "view"]
        for c in RolePermission.objects.filter(actions__gt=0)
        if c.actions & view
    ]
    live = Grant.objects.filter(revoked_at__isnull=True).exclude(expires_at__lte=now)
    for user_id, group_id, module_id, resource_id, actions in live.values_list(
        "user_id", "group_id", "module_id", "resource_id", "actions"
    ).iterator(chunk_size=20_000):
        if actions & view:
            who = f"u:{user_id}" if user_id else f"g:{group_id}"
            rules.append([who, dom, f"r:{resource_id}" if resource_id else f"module:{module_id}", "view"])
    links = [
        [f"u:{u}", f"g:{g}", dom] for u, g in GroupMembership.objects.values_list("user_id", "group_id").iterator()
    ]
    links += [[f"u:{u}", f"role:{r}", dom] for u, r in User.objects.values_list("id", "role_id").iterator()]
    loaded = time.monotonic() - started
    with tempfile.TemporaryDirectory() as folder:
        model = Path(folder) / "model.conf"
        model.write_text(CASBIN_MODEL)
        started = time.monotonic()
        enforcer = casbin.FastEnforcer(str(model), None, cache_key_order=[1, 2])
        enforcer.enable_auto_save(False)
        enforcer.add_policies(rules)
        enforcer.add_named_grouping_policies("g", links)
        built = time.monotonic() - started
    grown = (rusage.getrusage(rusage.RUSAGE_SELF).ru_maxrss - rss_before) / 1024
    out(
        f"  {len(rules):,} policies, {len(links):,} role links: read in {loaded:.0f} s, built in {built:.0f} s, "
        f"peak memory +{grown:,.0f} MB"
    )
    requests = [(f"u:{user.pk}", dom, f"r:{resource.pk}", "view") for user, resource in cold_pairs]

    def enforce(i):
        enforcer.enforce(*requests[i % len(requests)])

    user = user_list[0]
    # On 3 Dec, at full scale, pycasbin 1.43 spent minutes in its first enforces (py-spy: DomainManager
    # building the domain's role manager, each link's add_link scanning every role): each step is
    # time-boxed so that the benchmark ends and says so.
    for label, step in (
        ("first enforce (builds the domain's role links)", lambda: timed(enforce, 1)),
        ("enforce, a resource (everything in memory: compare with warm can)", lambda: timed(enforce, len(requests))),
        (
            "get_implicit_permissions_for_user (a user's objects)",
            lambda: timed(
                lambda i: enforcer.get_implicit_permissions_for_user(f"u:{user.pk}", dom),
                3 if len(rules) < 500_000 else 1,
            ),
        ),
    ):
        try:
            with time_box(CASBIN_SECONDS):
                fmt(label, step())
        except TimeoutError:
            out(f"  {label}: not done after {CASBIN_SECONDS} s (stopped)")


CASBIN_SECONDS = 240


@contextmanager
def time_box(seconds: int):
    """Raise TimeoutError in this (main) thread after ``seconds``: a peer's step that never ends."""
    import signal

    def expire(signum, frame):
        raise TimeoutError

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
