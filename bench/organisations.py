"""Customer organisations and sharing rules at scale (issue 16), side by side with django-guardian.

``python -m bench --only organisations [--scale small|full | --quick]``. Full: a tenant of 100,000 users in
10,000 organisations (a holding of 3,000 companies under one parent, 7,000 independent companies),
1,000,000 resources of three modules, 95 % owned by an organisation, and 1,004 live sharing rules: on each
module "members view their organisation's records, child organisations included", 1,000 partner rules
("members of A view B's records") and one criteria rule (``region = "east"`` on products, for the advanced
role). No user holds a grant on a record: every record a customer sees comes from a rule. Small: 1/20.

Prints p50/p99 of ``can`` warm (inside a request) and cold, the first page of 50 of ``visible`` for users
who see 10, about 1,000, about 33,000 and about 100,000 records by rule, ``explain`` naming the rule and
``holders`` of one record. Two cold rows, because the engine keeps two things per process:
- *cold* (the question's figure): the user's compiled set and clauses are not in the process (emptied
  before each check), the version row is read, and the tenant's rules and organisations at this version are
  already in the process (read once per version and process, like the module map);
- *after a change*: everything emptied, the tenant's 1,004 rules and 10,000 organisations read again too:
  what the first check of each process pays after any change in the tenant.

Side by side, django-guardian, which has no rules and would need one row per (user, record): the benchmark
counts how many rows the same access takes, loads guardian's direct-FK rows for two twin users who see the
same records as the 10- and 100,000-record users, and measures its reused and fresh checkers and
``get_objects_for_user`` on them (its own indexes built for the measurement, as in the permissions suite).
"""

from __future__ import annotations

import random
import time
import uuid
from datetime import UTC, datetime

from bench.permissions import (
    buffer_counts,
    buffers_note,
    copy_rows,
    ensure_database,
    fix_sequence,
    fmt,
    guardian_indexes,
    next_id,
    out,
    show_plan,
    statement_timeout,
    timed,
    without_indexes,
)

SEED = 20261204
# users, resources, organisations, holding companies (children of one parent), partner rules
SCALES = {"full": (100_000, 1_000_000, 10_000, 3_000, 1_000), "small": (5_000, 50_000, 500, 150, 50)}
REGIONS = ("east", "west", "north", "south")
SMALL_ORG_RECORDS = 10  # reports owned by the small company


class World:
    """The generated tenant: the ids the measurements need."""

    tenant = None
    reports_id = 0
    holding = small_org = partner_org = 0  # organisation ids
    users: dict[str, int] = {}  # label → user id
    resource_ids: tuple[int, int] = (0, 0)
    n_orgs = 0


def _layout(scale: str):
    n_users, n_resources, n_orgs, n_holding, n_partner = SCALES[scale]
    return n_users, n_resources, n_orgs, n_holding, n_partner


def _owner(i: int, n_orgs: int, small_index: int) -> int | None:
    """The organisation index owning resource ``i`` (None for the 5 % owned by nobody)."""
    if i % 20 == 19:
        return None
    owner = (i // 3) % n_orgs
    if owner == small_index and (i // 3) // n_orgs >= SMALL_ORG_RECORDS:
        return small_index + 1  # the small company keeps exactly SMALL_ORG_RECORDS reports
    return owner


def _find(slug: str) -> World | None:
    from accounts.models import Tenant, User
    from accounts.organisations import Organisation
    from accounts.scoping import dangerously_unscoped
    from permissions.models import Module, Resource

    with dangerously_unscoped():
        tenant = Tenant.objects.filter(slug=slug).first()
        if tenant is None:
            return None
        world = World()
        world.tenant = tenant
        world.reports_id = Module.objects.get(tenant=tenant, key="reports").pk
        orgs = list(Organisation.objects.filter(tenant=tenant).order_by("id").values_list("id", flat=True))
        world.n_orgs = len(orgs)
        users = User.objects.filter(tenant=tenant).order_by("id")
        world.users = {u.full_name: u.pk for u in users.filter(full_name__startswith="Measured ")}
        ids = Resource.objects.filter(tenant=tenant).order_by("id").values_list("id", flat=True)
        world.resource_ids = (ids.first(), ids.last())
        world.holding, world.small_org, world.partner_org = orgs[0], orgs[_small_index(len(orgs))], orgs[1]
        out(f"  reusing tenant {slug}: {users.count():,} users, {ids.count():,} resources, {len(orgs):,} organisations")
        return world


def _small_index(n_orgs: int) -> int:
    return n_orgs // 2


def generate(scale: str) -> World:
    """Generate (or find) the organisations tenant of this scale."""
    from django.db import connection, transaction

    from accounts import services as account_services
    from accounts.models import User
    from accounts.organisations import Organisation
    from accounts.scoping import tenant_scope
    from permissions import versioning
    from permissions.models import Module, Resource, Role, SharingRule
    from permissions.vocabulary import Action

    slug = f"bench-orgs-{scale}"
    found = _find(slug)
    if found is not None:
        return found
    n_users, n_resources, n_orgs, n_holding, n_partner = _layout(scale)
    out(
        f"  generating tenant {slug}: {n_users:,} users, {n_resources:,} resources, {n_orgs:,} organisations, "
        f"{3 + n_partner + 1:,} sharing rules …"
    )
    started = time.monotonic()
    rng = random.Random(SEED)
    now = datetime.now(UTC)
    world = World()
    world.n_orgs = n_orgs
    small_index = _small_index(n_orgs)
    with transaction.atomic():
        tenant = account_services.create_tenant(name=f"Bench organisations {scale}", slug=slug)
        world.tenant = tenant
        with tenant_scope(tenant):
            modules = {m.key: m.pk for m in Module.objects.all()}
            roles = {r.key: r.pk for r in Role.objects.all()}
        business = [modules["products"], modules["reports"], modules["analytics"]]
        world.reports_id = modules["reports"]
        tables = {m._meta.model_name: m._meta.db_table for m in (User, Resource, Organisation, SharingRule)}
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")
            cursor.execute("SET LOCAL session_replication_role = replica")  # consistent by construction
            first_org = next_id(cursor, tables["organisation"])
            first_user = next_id(cursor, tables["user"])
            first_resource = next_id(cursor, tables["resource"])
            # Organisation 0 is the holding's parent; 1..n_holding-1 its companies; the rest independent.
            copy_rows(
                cursor,
                tables["organisation"],
                ["id", "tenant_id", "name", "status", "parent_id", "created_at"],
                (
                    (first_org + o, tenant.pk, f"Company {o}", "active", first_org if 0 < o < n_holding else None, now)
                    for o in range(n_orgs)
                ),
            )
            fix_sequence(cursor, tables["organisation"])
            world.holding, world.partner_org = first_org, first_org + 1
            world.small_org = first_org + small_index
            # Ten users per organisation; every hundredth one advanced (the criteria rule's role).
            copy_rows(
                cursor,
                tables["user"],
                ["id", "password", "is_superuser", "email", "full_name", "tenant_id", "role_id", "is_active"]
                + ["is_staff", "date_joined", "language", "organisation_id"],
                (
                    (
                        first_user + i,
                        "!",
                        False,
                        f"user{i}@{slug}.example",
                        f"User {i}",
                        tenant.pk,
                        roles["advanced"] if i % 100 == 99 else roles["basic"],
                        True,
                        False,
                        now,
                        "",
                        first_org + (i % n_orgs),
                    )
                    for i in range(n_users)
                ),
            )
            fix_sequence(cursor, tables["user"])
            with without_indexes(cursor, [tables["resource"]]):
                copy_rows(
                    cursor,
                    tables["resource"],
                    ["id", "tenant_id", "module_id", "title", "description", "attributes", "uid"]
                    + ["created_at", "updated_at", "owner_organisation_id"],
                    (
                        (
                            first_resource + i,
                            tenant.pk,
                            business[i % 3],
                            f"Record {i}",
                            "",
                            f'{{"region": "{REGIONS[(i // 7) % 4]}"}}',
                            uuid.uuid4(),
                            now,
                            now,
                            None if (owner := _owner(i, n_orgs, small_index)) is None else first_org + owner,
                        )
                        for i in range(n_resources)
                    ),
                )
            fix_sequence(cursor, tables["resource"])
            world.resource_ids = (first_resource, first_resource + n_resources - 1)
            view = Action.VIEW.bit
            rules = [
                (f"Own records: {key}", "own", modules[key], view, True, None, None, None, "", "")
                for key in ("products", "reports", "analytics")
            ]
            pairs = set()
            while len(pairs) < n_partner:
                a, b = rng.randrange(n_holding, n_orgs), rng.randrange(n_holding, n_orgs)
                if a != b:
                    pairs.add((a, b))
            # The partner organisation (holding company 1) sees one independent company's records.
            pairs.add((1, n_holding + 1))
            rules += [
                (f"Partner {a} to {b}", "partner", modules["reports"], view, False, first_org + a, first_org + b)
                + (None, "", "")
                for a, b in sorted(pairs)
            ]
            rules.append(
                ("East products", "criteria", modules["products"], view, False, None, None)
                + (roles["advanced"], "region", "east")
            )
            copy_rows(
                cursor,
                tables["sharingrule"],
                ["tenant_id", "name", "kind", "module_id", "actions", "include_children", "organisation_id"]
                + ["target_organisation_id", "role_id", "attribute_key", "attribute_value", "reason", "created_at"],
                ((tenant.pk, *rule, "benchmark", now) for rule in rules),
            )
            fix_sequence(cursor, tables["sharingrule"])
        # The measured users: one member of each kind of organisation, and two twins for guardian (no org).
        with tenant_scope(tenant):
            measured = {
                "small": world.small_org,
                "company": first_org + n_holding + 2,
                "partner": world.partner_org,
                "holding": world.holding,
                "twin small": None,
                "twin holding": None,
            }
            for label, org in measured.items():
                user = User.objects.create(
                    tenant=tenant,
                    email=f"{label.replace(' ', '-')}@{slug}.example",
                    full_name=f"Measured {label}",
                    role_id=roles["basic"],
                    organisation_id=org,
                )
                world.users[f"Measured {label}"] = user.pk
        versioning.bump(tenant.pk)
        versioning.mark_sharing_rules(tenant.pk)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    out(f"  generated and analysed in {time.monotonic() - started:.0f} s")
    return world


def _guardian_twins(world: World, visible_ids: dict[str, list[int]]) -> int:
    """Grants and guardian direct-FK rows giving each twin exactly what its model user sees by rule (once)."""
    from django.contrib.auth.models import Permission
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection, transaction

    from permissions.models import Grant, Resource, ResourceUserPermission
    from permissions.vocabulary import Action

    if ResourceUserPermission.objects.dangerously_all_tenants().filter(tenant=world.tenant).exists():
        return 0
    content_type = ContentType.objects.get_for_model(Resource)
    view_perm = Permission.objects.get(content_type=content_type, codename="view_resource").pk
    now = datetime.now(UTC)
    rows = [(world.users[f"Measured twin {who}"], rid) for who, ids in visible_ids.items() for rid in ids]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        grants, rup = Grant._meta.db_table, ResourceUserPermission._meta.db_table
        first = next_id(cursor, grants)
        copy_rows(
            cursor,
            grants,
            ["id", "tenant_id", "user_id", "module_id", "resource_id", "actions", "reason", "provenance"]
            + ["reference", "created_at"],
            (
                (
                    first + n,
                    world.tenant.pk,
                    user,
                    world.reports_id,
                    rid,
                    Action.VIEW.bit,
                    "guardian twin",
                    "manual",
                    "",
                    now,
                )
                for n, (user, rid) in enumerate(rows)
            ),
        )
        fix_sequence(cursor, grants)
        copy_rows(
            cursor,
            rup,
            ["permission_id", "user_id", "content_object_id", "tenant_id", "grant_id", "action"],
            ((view_perm, user, rid, world.tenant.pk, first + n, Action.VIEW.bit) for n, (user, rid) in enumerate(rows)),
        )
        cursor.execute(f'ANALYZE "{rup}"')
    return len(rows)


def guardian_rows_needed(world: World) -> int:
    """How many (user, record, view) rows guardian would need for the access the rules give (no rules there)."""
    from django.db.models import Count

    from accounts.models import User
    from accounts.organisations import Organisation, descendants
    from permissions.models import Resource, SharingRule

    tenant = world.tenant
    members = dict(
        User.objects.filter(organisation__isnull=False).values_list("organisation_id").annotate(n=Count("id"))
    )
    owned = {}
    for org, module, n in (
        Resource.objects.filter(owner_organisation__isnull=False)
        .values_list("owner_organisation_id", "module_id")
        .annotate(n=Count("id"))
    ):
        owned[(org, module)] = n
    parents = dict(Organisation.objects.values_list("id", "parent_id"))
    total = 0
    for rule in SharingRule.objects.filter(tenant=tenant):
        if rule.kind == "own":
            for org, count in members.items():
                orgs = descendants(parents, org) if rule.include_children else {org}
                total += count * sum(owned.get((o, rule.module_id), 0) for o in orgs)
        elif rule.kind == "partner":
            total += members.get(rule.organisation_id, 0) * owned.get((rule.target_organisation_id, rule.module_id), 0)
        else:
            holders = User.objects.filter(role_id=rule.role_id).count()
            matching = Resource.objects.filter(module_id=rule.module_id, attributes__region=rule.attribute_value)
            total += holders * matching.count()
    return total


def run(args) -> None:
    """Generate (once) and measure."""
    import os

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
    rng = random.Random(SEED + 1)
    n = 20_000 if args.scale == "full" else 5_000
    out(f"  load average at start: {' '.join(f'{v:.2f}' for v in os.getloadavg())} (2 cores, shared)")
    with tenant_scope(world.tenant):
        reports = Resource.objects.filter(module_id=world.reports_id).order_by("id")
        measured = {label.removeprefix("Measured "): User.objects.get(pk=pk) for label, pk in world.users.items()}
        owned = Resource.objects.filter(owner_organisation__isnull=False).count()
        total = Resource.objects.count()
        out(f"  {owned:,} of {total:,} records owned by an organisation ({owned / total:.0%}), shared by rule")
        counts, visible_ids = {}, {}
        for label in ("small", "company", "partner", "holding"):
            ids = list(engine.visible(measured[label], Action.VIEW, reports).values_list("id", flat=True))
            counts[label] = len(ids)
            if label in ("small", "holding"):
                visible_ids[label] = ids
        loaded = _guardian_twins(world, visible_ids)
        if loaded:
            out(f"  guardian twins: {loaded:,} grants and direct-FK rows for the same records (loaded once)")
        lo, hi = world.resource_ids
        users = list(User.objects.filter(organisation__isnull=False).order_by("?")[:400])
        sample = list(Resource.objects.filter(pk__in=[lo + rng.randrange(hi - lo) for _ in range(2000)]))
        # Half the pairs are a user and a record of their own organisation (allowed by a rule), half random.
        own = {}
        for r in Resource.objects.filter(owner_organisation_id__in={u.organisation_id for u in users}).order_by("id"):
            own.setdefault(r.owner_organisation_id, r)
        pairs = []
        for i, user in enumerate(users):
            mine = own.get(user.organisation_id)
            pairs.append((user, mine if i % 2 == 0 and mine is not None else sample[i % len(sample)]))
        allowed = sum(engine.can(u, Action.VIEW, r) for u, r in pairs)
        out(f"  cold pairs: {len(pairs)} (user, record), {allowed} allowed by a rule, {len(pairs) - allowed} refused")

        out("\nPortcullis engine (sharing rules; the version row read as in production)")
        with request_versions():
            warm = [(user, resource) for user in users[:50] for resource in sample[:200]]
            for user, resource in warm:
                engine.can(user, Action.VIEW, resource)
            size = len(warm)

            def warm_check(i):
                user, resource = warm[i % size]
                engine.can(user, Action.VIEW, resource)

            fmt("can, warm (in a request; random records, rules evaluated)", timed(warm_check, n * 5))

        def cold(i):
            engine.forget_users()
            user, resource = pairs[i % len(pairs)]
            engine.can(user, Action.VIEW, resource)

        for i in range(200):  # the connection and its prepared statements
            cold(i)
        with CaptureQueriesContext(connection) as queries:
            cold(0)
        before = buffer_counts(connection)
        fmt(
            "can, cold: user's set and clauses not in the process",
            timed(cold, len(pairs) * 5),
            f"{len(queries)} queries; {buffers_note(connection, before)}",
        )

        def after_change(i):
            engine.clear_process_cache()
            user, resource = pairs[i % len(pairs)]
            engine.can(user, Action.VIEW, resource)

        with CaptureQueriesContext(connection) as queries:
            after_change(0)
        fmt(
            "can, first check after a change (tenant's rules and organisations read too)",
            timed(after_change, 200),
            f"{len(queries)} queries",
        )
        engine.clear_process_cache()

        def page(user):
            return lambda i: list(engine.visible(user, Action.VIEW, reports)[:50])

        for label in ("small", "company", "partner", "holding"):
            user = measured[label]
            with request_versions():
                page(user)(0)
                with CaptureQueriesContext(connection) as queries:
                    rows = page(user)(0)
                fmt(
                    f"visible, first page of 50 ({counts[label]:,} records by rule)",
                    timed(page(user), 300),
                    f"{len(rows)} rows, {len(queries)} query",
                )
        with CaptureQueriesContext(connection) as queries:
            page(measured["holding"])(0)
        show_plan(connection, "plan of the holding's page", queries.captured_queries[-1]["sql"], 8)

        holding_record = reports.get(pk=visible_ids["holding"][-1])
        explanation = engine.explain(measured["holding"], Action.VIEW, holding_record)
        named = [p.note for p in explanation.paths if p.rule is not None]
        if not explanation.allowed or not named:
            raise SystemExit(f"explain did not name the sharing rule: {explanation}")
        fmt(
            "explain (names the rule)",
            timed(lambda i: engine.explain(measured["holding"], Action.VIEW, holding_record), 300),
            f"“{named[0]}”",
        )
        found = engine.holders(Action.VIEW, holding_record, tenant=world.tenant)
        fmt(
            "holders of one record",
            timed(lambda i: engine.holders(Action.VIEW, holding_record, tenant=world.tenant), 100),
            f"{len(found):,} holders",
        )
        guardian_side(world, measured, counts, visible_ids, n)
    out(f"\n  load average at end: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


def guardian_side(world, measured, counts, visible_ids, n) -> None:
    """django-guardian on twins holding one row per record the rules give their model users."""
    from django.db import OperationalError, connection
    from guardian.core import ObjectPermissionChecker
    from guardian.shortcuts import get_objects_for_user

    from permissions.models import Resource

    needed = guardian_rows_needed(world)
    out(
        f"\ndjango-guardian (no rules: one row per user and record): the same access needs {needed:,} rows "
        "(for view alone; the rules that give it are a few rows, read once per version and process)"
    )
    reports = Resource.objects.filter(module_id=world.reports_id).order_by("id")
    twins = {label: measured[f"twin {label}"] for label in ("small", "holding")}
    with guardian_indexes(connection):
        records = list(reports.filter(pk__in=visible_ids["holding"][:200]))
        checker = ObjectPermissionChecker(twins["holding"])
        checker.prefetch_perms(records)
        fmt(
            "reused checker, warm (prefetch_perms; 200 records)",
            timed(lambda i: checker.has_perm("view_resource", records[i % len(records)]), n * 5),
        )
        fmt(
            "fresh checker + has_perm, cold",
            timed(
                lambda i: ObjectPermissionChecker(twins["holding"]).has_perm(
                    "view_resource", records[i % len(records)]
                ),
                2000,
            ),
        )
        for label in ("small", "holding"):
            twin = twins[label]

            def first_page(i, twin=twin):
                return list(
                    get_objects_for_user(
                        twin,
                        "permissions.view_resource",
                        klass=reports,
                        accept_global_perms=False,
                        with_superuser=False,
                    )[:50]
                )

            try:
                with statement_timeout(connection, 120):
                    first_page(0)
                    fmt(f"get_objects_for_user, first page of 50 ({counts[label]:,} rows)", timed(first_page, 30))
            except OperationalError:
                out(f"  get_objects_for_user, first page of 50 ({counts[label]:,} rows): over 120 s (cancelled)")
