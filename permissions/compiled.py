"""Compiled permission sets: what the engine keeps per (tenant, user, version), and the one SQL query
that fills it.

A set is valid until the earliest expiry of what it was built from, and never longer than
``MAX_SET_SECONDS`` (a bounded lifetime); ``permissions.versioning`` says when a change invalidates it.

A cold check is exactly one query: the user's module-level set (role matrix ∪ module grants ∪ group
module grants, plus the tenant's module keys and the user's groups), the user's and their groups' object
rows when there are at most ``MAX_COMPLETE_OBJECT_ROWS`` of them (the set is then *complete*: a resource
it does not name is answered "nothing" without a query, whatever resource a later check names), and, for
a resource target, the object rows on that resource, in one ``UNION ALL``. A user with more object rows
gets an incomplete set, and each resource not yet answered costs one query. Expired rows are filtered
in SQL with the caller's clock; the earliest expiry of what was read bounds how long the set is valid,
so a cached answer never outlives a grant.

On PostgreSQL the query is a server-side prepared statement (when the connection allows them, see
``portal.config.database_config``): its plan is made once per connection instead of on every cold
check, which was most of a cold check's time (planning this ``UNION ALL`` cost ~0.4 ms, running it
~0.1 ms). Its parameters are bound on the server with fixed types (bigint ids, an id array), so one
statement serves every user and any number of resources.
"""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime

from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.utils.dateparse import parse_datetime

try:  # PostgreSQL with psycopg 3: one parameter type per position, so the statement can be prepared
    from psycopg.types.numeric import Int8
except (ImportError, ImproperlyConfigured):  # pragma: no cover - no psycopg 3 (SQLite only, or psycopg2)
    Int8 = None

from permissions.models import (
    Grant,
    GroupMembership,
    Module,
    ResourceGroupPermission,
    ResourceUserPermission,
    RolePermission,
)
from portal.postgresql import cursors

INF = math.inf
MAX_RESOURCES_PER_USER = 50_000
#: A user with at most this many object rows (theirs and their groups', not expired) has them all in the set.
MAX_COMPLETE_OBJECT_ROWS = 256
#: The longest a compiled set is trusted, whatever the version says (defence in depth against a change
#: that did not bump the version, e.g. one written by hand in SQL): it is then built again.
MAX_SET_SECONDS = 60.0


class Compiled:
    """One user's permission set at one version (module-level bits, groups, a lazy resource map)."""

    __slots__ = (
        "version",
        "role_id",
        "modules",
        "keys",
        "groups",
        "valid_until",
        "resources",
        "counts",
        "complete",
        "sharing",
    )

    def __init__(self, version, role_id):
        self.version = version
        self.role_id = role_id
        self.modules: dict[int, int] = {}
        self.keys: dict[str, int] = {}
        self.groups: tuple[int, ...] = ()
        self.valid_until = time.time() + MAX_SET_SECONDS
        self.resources: dict[int, tuple[int, float]] = {}
        self.counts: dict = {}  # action bit (or ("rules", bit, modules)) → bounded row count (visible()'s plan)
        #: ``resources`` holds every object row of the user: a resource missing from it gives nothing
        self.complete = False
        self.sharing = None  # the user's sharing-rule clauses for this set (``permissions.sharing.profile``)

    def resource_bits(self, resource_id: int, now: float) -> int | None:
        """The bits the user's object rows give on the resource, when the set knows them (None: ask)."""
        cached = self.resources.get(resource_id)
        if cached is not None and now < cached[1]:
            return cached[0]
        if cached is None and self.complete:
            return 0
        return None


def _tables():
    return {
        "module": Module._meta.db_table,
        "rp": RolePermission._meta.db_table,
        "grant": Grant._meta.db_table,
        "gm": GroupMembership._meta.db_table,
        "rup": ResourceUserPermission._meta.db_table,
        "rgp": ResourceGroupPermission._meta.db_table,
    }


_SQL: dict[str, str] = {}


def _server_bound(db) -> bool:
    """True when the engine's query goes through a server-binding, preparable cursor (PostgreSQL, and
    the connection's ``prepare_threshold`` is set; Django leaves it unset by default for poolers)."""
    if not cursors.available(db):
        return False
    db.ensure_connection()
    return db.connection.prepare_threshold is not None


def _sql(name: str) -> str:
    if not _SQL:
        t = _tables()
        postgres = connection.vendor == "postgresql"
        # PostgreSQL types a bare NULL in the first branches of a UNION as text: say it is a timestamp.
        null_ts = "CAST(NULL AS TIMESTAMP WITH TIME ZONE)" if postgres else "NULL"
        # One statement for any number of ids on PostgreSQL (an array parameter); a list elsewhere.
        ids = "= ANY(%s)" if postgres else "IN ({ids})"
        not_expired = "({a}.expires_at IS NULL OR {a}.expires_at > %s)"
        _SQL["modules"] = (
            f"SELECT 0, m.id, m.actions, {null_ts}, m.key FROM {t['module']} m WHERE m.tenant_id = %s "
            f"UNION ALL SELECT 1, rp.module_id, rp.actions, {null_ts}, NULL FROM {t['rp']} rp "
            f"WHERE rp.tenant_id = %s AND rp.role_id = %s "
            f"UNION ALL SELECT 2, g.module_id, g.actions, g.expires_at, NULL FROM {t['grant']} g "
            f"WHERE g.tenant_id = %s AND g.user_id = %s AND g.resource_id IS NULL AND g.revoked_at IS NULL "
            f"AND {not_expired.format(a='g')} "
            f"UNION ALL SELECT 3, g.module_id, g.actions, g.expires_at, NULL FROM {t['grant']} g "
            f"JOIN {t['gm']} gm ON gm.group_id = g.group_id "
            f"WHERE g.tenant_id = %s AND gm.tenant_id = %s AND gm.user_id = %s AND g.resource_id IS NULL "
            f"AND g.revoked_at IS NULL AND {not_expired.format(a='g')} "
            f"UNION ALL SELECT 4, gm.group_id, 0, {null_ts}, NULL FROM {t['gm']} gm "
            f"WHERE gm.tenant_id = %s AND gm.user_id = %s"
        )
        # Every object row of the user (theirs, their groups'), at most MAX_COMPLETE_OBJECT_ROWS + 1 of them.
        _SQL["objects"] = (
            f"SELECT o.k, o.rid, o.bits, o.expires_at, NULL FROM ("
            f"SELECT 6 AS k, p.content_object_id AS rid, p.action AS bits, p.expires_at AS expires_at "
            f"FROM {t['rup']} p WHERE p.tenant_id = %s AND p.user_id = %s AND {not_expired.format(a='p')} "
            f"UNION ALL SELECT 6, p.content_object_id, p.action, p.expires_at FROM {t['rgp']} p "
            f"JOIN {t['gm']} gm ON gm.group_id = p.group_id "
            f"WHERE p.tenant_id = %s AND gm.tenant_id = %s AND gm.user_id = %s AND {not_expired.format(a='p')} "
            f"LIMIT %s) o"
        )
        _SQL["resource"] = (
            f"SELECT 5, p.content_object_id, p.action, p.expires_at, NULL FROM {t['rup']} p "
            f"WHERE p.tenant_id = %s AND p.user_id = %s AND p.content_object_id {ids} "
            f"AND {not_expired.format(a='p')} "
            f"UNION ALL SELECT 5, p.content_object_id, p.action, p.expires_at, NULL FROM {t['rgp']} p "
            f"JOIN {t['gm']} gm ON gm.group_id = p.group_id "
            f"WHERE p.tenant_id = %s AND gm.tenant_id = %s AND gm.user_id = %s AND p.content_object_id {ids} "
            f"AND {not_expired.format(a='p')}"
        )
    return _SQL[name]


def _epoch(value) -> float:
    if value is None:
        return INF
    if isinstance(value, str):  # SQLite returns text
        value = parse_datetime(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


def _module_params(tenant_id, user_id, role_id, now, big=int):
    tenant_id, user_id = big(tenant_id), big(user_id)
    return [
        tenant_id,
        tenant_id,
        big(role_id or 0),
        tenant_id,
        user_id,
        now,
        tenant_id,
        tenant_id,
        user_id,
        now,
        tenant_id,
        user_id,
    ]


def _object_params(tenant_id, user_id, now, big=int):
    tenant_id, user_id = big(tenant_id), big(user_id)
    return [tenant_id, user_id, now, tenant_id, tenant_id, user_id, now, big(MAX_COMPLETE_OBJECT_ROWS + 1)]


def _resource_sql_and_params(tenant_id, user_id, resource_ids, now, big=int):
    sql = _sql("resource")
    tenant_id, user_id = big(tenant_id), big(user_id)
    if "{ids}" not in sql:  # PostgreSQL: one array parameter
        ids = [[big(rid) for rid in resource_ids]]
    else:
        sql = sql.replace("{ids}", ", ".join(["%s"] * len(resource_ids)))
        ids = resource_ids
    params = [tenant_id, user_id, *ids, now, tenant_id, tenant_id, user_id, *ids, now]
    return sql, params


def fetch(sql: str, params: list, *, server_bound: bool = False, db=None) -> list[tuple]:
    """Run the engine's one query (``server_bound``: through a server-binding cursor, so that psycopg
    prepares it once the connection's ``prepare_threshold`` is reached). Either way it is Django's
    cursor wrapper that runs it: errors are translated, and the query is logged like any other."""
    db = db or connections[DEFAULT_DB_ALIAS]
    if not server_bound:
        with db.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()
    with cursors.server_binding_cursor(db) as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def load(user, version, now: datetime, *, compiled: Compiled | None = None, resource_ids=()) -> Compiled:
    """Fill (or, with ``compiled``, extend with ``resource_ids``) a user's set, in one query."""
    tenant_id, user_id = user.tenant_id, user.pk
    db = connections[DEFAULT_DB_ALIAS]  # once: each attribute of the ``connection`` proxy is a lookup
    db_now = db.ops.adapt_datetimefield_value(now)
    server_bound = _server_bound(db)
    big = Int8 if server_bound else int  # one parameter type per position: one prepared statement
    parts, params = [], []
    fresh = compiled is None
    if fresh:
        compiled = Compiled(version, user.role_id)
        parts += [_sql("modules"), _sql("objects")]
        params += _module_params(tenant_id, user_id, user.role_id, db_now, big)
        params += _object_params(tenant_id, user_id, db_now, big)
    resource_ids = list(resource_ids)
    if resource_ids:
        sql, resource_params = _resource_sql_and_params(tenant_id, user_id, resource_ids, db_now, big)
        parts.append(sql)
        params += resource_params
    if not parts:
        return compiled
    rows = fetch(" UNION ALL ".join(parts), params, server_bound=server_bound, db=db)
    return _fill(compiled, rows, resource_ids, fresh=fresh, with_objects=fresh)


def _fill(compiled: Compiled, rows, resource_ids, *, fresh: bool, with_objects: bool = False) -> Compiled:
    """Decode the query's rows (kind, id, bits, expiry, key) into ``compiled``; every id of
    ``resource_ids`` gets an answer (0 when no row gives anything). Rows of kind 6 (all the user's object
    rows, bounded, read when ``with_objects``) make the set complete when there are not more than the bound."""
    modules, keys, groups = compiled.modules, compiled.keys, []
    found: dict[int, list] = {rid: [0, INF] for rid in resource_ids}
    valid_until = compiled.valid_until
    every: dict[int, list] = {}
    every_rows = 0
    for kind, ident, bits, expires_at, key in rows:
        if kind == 6:
            every_rows += 1
            entry = every.setdefault(ident, [0, INF])
            entry[0] |= bits
            if expires_at is not None:
                entry[1] = min(entry[1], _epoch(expires_at))
        elif kind == 0:
            keys[key] = ident
            modules.setdefault(ident, 0)
        elif kind == 4:
            groups.append(ident)
        elif kind == 5:
            entry = found[ident]
            entry[0] |= bits
            if expires_at is not None:
                entry[1] = min(entry[1], _epoch(expires_at))
        else:
            modules[ident] = modules.get(ident, 0) | bits
            if expires_at is not None:
                valid_until = min(valid_until, _epoch(expires_at))
    if fresh:
        compiled.groups = tuple(groups)
        if with_objects and every_rows <= MAX_COMPLETE_OBJECT_ROWS:  # the bound (LIMIT + 1) not reached
            compiled.complete = True
            for rid, (bits, until) in every.items():
                found.setdefault(rid, [bits, until])
                valid_until = min(valid_until, until)  # rebuilt when one of its rows expires
        compiled.valid_until = valid_until
    if len(compiled.resources) + len(found) > MAX_RESOURCES_PER_USER:
        compiled.resources.clear()
        compiled.complete = False
    for rid, (bits, until) in found.items():
        compiled.resources[rid] = (bits, until)
    return compiled


MAX_BATCH_USERS = 200


def load_many(users, version, now: datetime, *, resource_ids=()) -> dict[int, Compiled]:
    """Fresh sets for several users of one tenant (a page of requesters) in one query, with their
    answers on ``resource_ids``: what ``load`` gives each of them, without a query per user.

    The same branches as ``load``, over lists of users and roles, each row tagged with the user (or
    role) it belongs to; rows are then dealt to each user's set and decoded like ``load``'s.
    """
    users = list({u.pk: u for u in users}.values())
    if not users:
        return {}
    if len(users) > MAX_BATCH_USERS:
        raise ValueError(f"at most {MAX_BATCH_USERS} users per batch")
    tenant_id = users[0].tenant_id
    if any(u.tenant_id != tenant_id for u in users):
        raise ValueError("one tenant per batch")
    db = connections[DEFAULT_DB_ALIAS]
    resource_ids = sorted(set(resource_ids))
    branches = _batch_branches(db, tenant_id, users, db.ops.adapt_datetimefield_value(now), resource_ids)
    sql = " UNION ALL ".join(part for part, _params in branches)
    rows = fetch(sql, [value for _part, params in branches for value in params], db=db)
    return _deal(rows, users, version, resource_ids)


def _marks(values) -> str:
    return ", ".join(["%s"] * len(values))


def _batch_branches(db, tenant_id, users, db_now, resource_ids) -> list[tuple[str, list]]:
    """``load``'s branches for many users: (SQL, parameters) each, every row tagged with its user or role."""
    t = _tables()
    null_ts = "CAST(NULL AS TIMESTAMP WITH TIME ZONE)" if db.vendor == "postgresql" else "NULL"
    live = "({a}.expires_at IS NULL OR {a}.expires_at > %s)"
    user_ids = [u.pk for u in users]
    role_ids = sorted({u.role_id or 0 for u in users})
    marks = _marks
    branches = [
        (f"SELECT 0, NULL, m.id, m.actions, {null_ts}, m.key FROM {t['module']} m WHERE m.tenant_id = %s", [tenant_id]),
        (
            f"SELECT 1, rp.role_id, rp.module_id, rp.actions, {null_ts}, NULL FROM {t['rp']} rp "
            f"WHERE rp.tenant_id = %s AND rp.role_id IN ({marks(role_ids)})",
            [tenant_id, *role_ids],
        ),
        (
            f"SELECT 2, g.user_id, g.module_id, g.actions, g.expires_at, NULL FROM {t['grant']} g "
            f"WHERE g.tenant_id = %s AND g.user_id IN ({marks(user_ids)}) AND g.resource_id IS NULL "
            f"AND g.revoked_at IS NULL AND {live.format(a='g')}",
            [tenant_id, *user_ids, db_now],
        ),
        (
            f"SELECT 3, gm.user_id, g.module_id, g.actions, g.expires_at, NULL FROM {t['grant']} g "
            f"JOIN {t['gm']} gm ON gm.group_id = g.group_id WHERE g.tenant_id = %s AND gm.tenant_id = %s "
            f"AND gm.user_id IN ({marks(user_ids)}) AND g.resource_id IS NULL AND g.revoked_at IS NULL "
            f"AND {live.format(a='g')}",
            [tenant_id, tenant_id, *user_ids, db_now],
        ),
        (
            f"SELECT 4, gm.user_id, gm.group_id, 0, {null_ts}, NULL FROM {t['gm']} gm "
            f"WHERE gm.tenant_id = %s AND gm.user_id IN ({marks(user_ids)})",
            [tenant_id, *user_ids],
        ),
    ]
    # Every object row of each user, at most MAX_COMPLETE_OBJECT_ROWS + 1 per user (numbered per user).
    branches.append(
        (
            f"SELECT 6, o.uid, o.rid, o.bits, o.expires_at, NULL FROM (SELECT a.uid, a.rid, a.bits, a.expires_at, "
            f"ROW_NUMBER() OVER (PARTITION BY a.uid) AS n FROM ("
            f"SELECT p.user_id AS uid, p.content_object_id AS rid, p.action AS bits, p.expires_at AS expires_at "
            f"FROM {t['rup']} p WHERE p.tenant_id = %s AND p.user_id IN ({marks(user_ids)}) AND {live.format(a='p')} "
            f"UNION ALL SELECT gm.user_id, p.content_object_id, p.action, p.expires_at FROM {t['rgp']} p "
            f"JOIN {t['gm']} gm ON gm.group_id = p.group_id WHERE p.tenant_id = %s AND gm.tenant_id = %s "
            f"AND gm.user_id IN ({marks(user_ids)}) AND {live.format(a='p')}) a) o WHERE o.n <= %s",
            [tenant_id, *user_ids, db_now, tenant_id, tenant_id, *user_ids, db_now, MAX_COMPLETE_OBJECT_ROWS + 1],
        )
    )
    if resource_ids:
        branches += [
            (
                f"SELECT 5, p.user_id, p.content_object_id, p.action, p.expires_at, NULL FROM {t['rup']} p "
                f"WHERE p.tenant_id = %s AND p.user_id IN ({marks(user_ids)}) "
                f"AND p.content_object_id IN ({marks(resource_ids)}) AND {live.format(a='p')}",
                [tenant_id, *user_ids, *resource_ids, db_now],
            ),
            (
                f"SELECT 5, gm.user_id, p.content_object_id, p.action, p.expires_at, NULL FROM {t['rgp']} p "
                f"JOIN {t['gm']} gm ON gm.group_id = p.group_id WHERE p.tenant_id = %s AND gm.tenant_id = %s "
                f"AND gm.user_id IN ({marks(user_ids)}) AND p.content_object_id IN ({marks(resource_ids)}) "
                f"AND {live.format(a='p')}",
                [tenant_id, tenant_id, *user_ids, *resource_ids, db_now],
            ),
        ]
    return branches


def _deal(rows, users, version, resource_ids) -> dict[int, Compiled]:
    """Each user's set from the batch's rows: the tenant's modules, their role's rows and their own."""
    shared, by_role, by_user = [], {}, {}
    for kind, owner, *row in rows:
        if kind == 0:
            shared.append((kind, *row))
        elif kind == 1:
            by_role.setdefault(owner, []).append((kind, *row))
        else:
            by_user.setdefault(owner, []).append((kind, *row))
    return {
        u.pk: _fill(
            Compiled(version, u.role_id),
            [*shared, *by_role.get(u.role_id or 0, ()), *by_user.get(u.pk, ())],
            resource_ids,
            fresh=True,
            with_objects=True,
        )
        for u in users
    }
