"""The SQL planner of ``engine.visible()``: which filter narrows a Resource queryset to what a user may
act on, in one statement that keeps the caller's filters, ordering and slicing.

- ``module_filter(queryset)``: the module ids the caller's queryset is already restricted to; a filter
  inside modules the user holds wholesale needs nothing more.
- ``object_row_count(...)``: how many object rows give the action to the user (bounded by ``DENSE_AT`` + 1,
  cached on the compiled set per version): it picks the plan.
- ``sparse_condition(...)``: few rows: ``id IN (the user's rows UNION ALL each group's rows)``.
- ``dense_condition(...)``: many rows: the caller's order kept, one ``EXISTS`` index probe per row.
- ``narrow(...)``: the three together, as ``visible()`` uses them.
"""

from __future__ import annotations

from django.db import connection
from django.db.models import BooleanField, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

from permissions.compiled import Compiled
from permissions.models import Resource, ResourceGroupPermission, ResourceUserPermission

#: Above this many object rows (the user's and their groups', for one action) a list is read in the
#: caller's order with one index probe per row; below it, from the user's rows (see narrow()).
DENSE_AT = 2_000


def _live_sql(alias: str) -> str:
    return f"({alias}.expires_at IS NULL OR {alias}.expires_at > %s)"


def object_row_count(entry: Compiled, user, bit: int, now) -> int:
    """How many object rows give ``bit`` to the user (bounded by DENSE_AT + 1), cached per version."""
    count = entry.counts.get(bit)
    if count is not None:
        return count
    bound = DENSE_AT + 1
    groups = ", ".join(["%s"] * len(entry.groups)) or "NULL"
    sql = (
        f"SELECT (SELECT COUNT(*) FROM (SELECT 1 FROM {ResourceUserPermission._meta.db_table} p "
        f"WHERE p.tenant_id = %s AND p.user_id = %s AND p.action = %s AND {_live_sql('p')} LIMIT {bound}) a) + "
        f"(SELECT COUNT(*) FROM (SELECT 1 FROM {ResourceGroupPermission._meta.db_table} p "
        f"WHERE p.tenant_id = %s AND p.group_id IN ({groups}) AND p.action = %s AND {_live_sql('p')} "
        f"LIMIT {bound}) b)"
    )
    params = [user.tenant_id, user.pk, bit, now, user.tenant_id, *entry.groups, bit, now]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        count = cursor.fetchone()[0]
    entry.counts[bit] = count
    return count


def sparse_condition(entry: Compiled, user, bit: int, now, whole: list[int], rules: tuple[str, list] | None = None):
    """Few object rows: the ids the user may act on as one ``UNION ALL`` subquery (PostgreSQL reads the
    user's index ranges, then joins the page's resources by primary key); ``rules``, the sharing rules'
    few rows as SQL and params (``_rules_ids``), is one more branch of it."""
    tenant_id = user.tenant_id
    branches = [
        f"SELECT p.content_object_id FROM {ResourceUserPermission._meta.db_table} p "
        f"WHERE p.tenant_id = %s AND p.user_id = %s AND p.action = %s AND {_live_sql('p')}"
    ]
    params: list = [tenant_id, user.pk, bit, now]
    for group_id in entry.groups:
        branches.append(
            f"SELECT p.content_object_id FROM {ResourceGroupPermission._meta.db_table} p "
            f"WHERE p.tenant_id = %s AND p.group_id = %s AND p.action = %s AND {_live_sql('p')}"
        )
        params += [tenant_id, group_id, bit, now]
    if rules is not None:
        branches.append(rules[0])
        params += rules[1]
    condition = Q(pk__in=RawSQL(" UNION ALL ".join(branches), params))
    return condition | Q(module_id__in=whole) if whole else condition


def dense_condition(entry: Compiled, user, bit: int, now, whole: list[int]):
    """Many object rows: keep the caller's order and probe the (tenant, subject, action, object) indexes
    once per row; ``OFFSET 0`` stops PostgreSQL from hashing every id first, so a page costs about
    page size ÷ density probes, whatever the number of objects."""
    table = Resource._meta.db_table
    tenant_id = user.tenant_id
    fence = "OFFSET 0" if connection.vendor == "postgresql" else "LIMIT -1 OFFSET 0"
    parts = [
        f"EXISTS (SELECT 1 FROM {ResourceUserPermission._meta.db_table} p WHERE p.tenant_id = %s AND "
        f'p.user_id = %s AND p.action = %s AND p.content_object_id = "{table}"."id" AND {_live_sql("p")} {fence})'
    ]
    params: list = [tenant_id, user.pk, bit, now]
    for group_id in entry.groups:
        parts.append(
            f"EXISTS (SELECT 1 FROM {ResourceGroupPermission._meta.db_table} p WHERE p.tenant_id = %s AND "
            f'p.group_id = %s AND p.action = %s AND p.content_object_id = "{table}"."id" AND {_live_sql("p")} '
            f"{fence})"
        )
        params += [tenant_id, group_id, bit, now]
    condition = Q(RawSQL(" OR ".join(parts), params, output_field=BooleanField()))
    return condition | Q(module_id__in=whole) if whole else condition


def module_filter(queryset: QuerySet) -> set[int] | None:
    """The module ids a Resource queryset is already restricted to (top-level AND filters), or None."""
    where = queryset.query.where
    if where.connector != "AND" or where.negated:
        return None
    found = None
    for child in where.children:
        lhs = getattr(child, "lhs", None)
        target = getattr(lhs, "target", None)
        if target is None or target.model is not Resource or target.name != "module":
            continue
        if child.lookup_name == "exact":
            values = {getattr(child.rhs, "pk", child.rhs)}
        elif child.lookup_name == "in" and isinstance(child.rhs, list | tuple | set):
            values = {getattr(v, "pk", v) for v in child.rhs}
        else:
            continue
        found = values if found is None else found & values
    return found


def narrow(queryset: QuerySet, entry: Compiled, user, bit: int, whole: list[int], extra: Q | None = None) -> QuerySet:
    """``queryset`` (Resources of the user's tenant) narrowed to the rows ``bit`` is held on: through the
    modules held wholesale (``whole``), through object rows, with the plan their count picks, or through
    ``extra`` (the sharing rules' rows, ``permissions.sharing.condition``)."""
    restricted = module_filter(queryset)
    if restricted is not None:
        if restricted <= set(whole):
            return queryset
        whole = sorted(restricted & set(whole))
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    if object_row_count(entry, user, bit, now) > DENSE_AT:
        condition = dense_condition(entry, user, bit, now, whole)
    elif extra is not None and (rules := sparse_rules(entry, user, bit, extra, restricted)) is not None:
        # Few rows by grants and by rules: one id list (the rules' rows read by their own index), not a scan
        # of the module in the caller's order filtered row by row, which reads the whole module for a user
        # who sees ten records.
        return queryset.filter(sparse_condition(entry, user, bit, now, whole, rules=rules))
    else:
        condition = sparse_condition(entry, user, bit, now, whole)
    return queryset.filter(condition | extra if extra is not None else condition)


def sparse_rules(entry: Compiled, user, bit: int, extra: Q, modules: set[int] | None) -> tuple[str, list] | None:
    """The resources the sharing rules' condition ``extra`` gives ``bit`` on (within ``modules`` when the
    caller's queryset names them) as SQL and params, when they are at most DENSE_AT rows; else None. The
    bounded count and the SQL are kept on the compiled set, like ``object_row_count``."""
    # The condition is part of the key: a rule that expires changes it while the compiled set lives on.
    key = ("rules", bit, frozenset(modules) if modules is not None else None, extra)
    known = entry.counts.get(key)
    if known is None:
        rows = Resource._base_manager.filter(tenant_id=user.tenant_id).filter(extra)
        if modules is not None:
            rows = rows.filter(module_id__in=sorted(modules))
        sql, params = rows.order_by().values_list("id").query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM ({sql} LIMIT {DENSE_AT + 1}) r", params)  # noqa: S608 - ORM SQL
            count = cursor.fetchone()[0]
        known = entry.counts[key] = (count, sql, list(params))
    count, sql, params = known
    return (sql, params) if count <= DENSE_AT else None
