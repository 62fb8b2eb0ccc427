"""Verify tenants' logs in the database: recompute every hash, check columns, checkpoints and signatures.

The algorithm is ``audit.verify_export.LogChecker`` (shared with the standalone export verifier); this
module feeds it the stored rows in position order and adds one database-only check: the indexed
columns (type, time, actor, target) must agree with the canonical bytes that the hashes cover.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import connection

from accounts.scoping import dangerously_unscoped, tenant_scope
from audit import keys
from audit.canonical import TIME_FORMAT
from audit.verify_export import LogChecker, Problem


@dataclass
class Report:
    """The outcome of verifying one tenant's log."""

    tenant_slug: str
    events: int
    checkpoints: int
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing is wrong."""
        return not self.problems


def checkpoint_dicts(tenant) -> list[dict]:
    """The tenant's checkpoints as the verifier (and the export) see them."""
    from audit.models import Checkpoint

    with tenant_scope(tenant):
        rows = list(Checkpoint.objects.order_by("index"))
    return [
        {
            "index": c.index,
            "tree_size": c.tree_size,
            "root_hash": c.root_hash,
            "time": c.created_at.strftime(TIME_FORMAT),
            "key_id": c.key_id,
            "note": c.note,
            "signature": c.signature,
            "consistency": c.consistency,
        }
        for c in rows
    ]


def _personal_rows(tenant_id: int):
    """(seq, field, salt, value) of the tenant's clear personal values, in position order (one cursor)."""
    from audit.models import PersonalValue

    table = connection.ops.quote_name(PersonalValue._meta.db_table)
    with connection.chunked_cursor() as cursor:
        cursor.execute(f"SELECT seq, field, salt, value FROM {table} WHERE tenant_id = %s ORDER BY seq", [tenant_id])
        while rows := cursor.fetchmany(5000):
            yield from rows


def _event_rows(tenant_id: int):
    from audit.models import AuditEvent

    table = connection.ops.quote_name(AuditEvent._meta.db_table)
    sql = (
        "SELECT seq, canonical, leaf_hash, chain_hash, event_type, occurred_at, actor_id, target_type, target_id "
        f"FROM {table} WHERE tenant_id = %s ORDER BY seq"
    )
    converter = connection.ops.convert_datetimefield_value if connection.vendor == "sqlite" else None
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, [tenant_id])
        while rows := cursor.fetchmany(10_000):
            if converter is not None:
                rows = [(*r[:5], converter(r[5], None, connection), *r[6:]) for r in rows]
            yield from rows


def verify_tenant(tenant) -> Report:
    """Verify one tenant's log; the report lists every problem with its position and kind."""
    checkpoints = checkpoint_dicts(tenant)
    checker = LogChecker(tenant.pk, keys.trusted_public_keys(), checkpoints)
    personal_rows = _personal_rows(tenant.pk)
    pending = next(personal_rows, None)
    add = checker.problems.append
    time_format = TIME_FORMAT
    for seq, canonical, leaf, chain, event_type, occurred_at, actor_id, target_type, target_id in _event_rows(
        tenant.pk
    ):
        personal = None
        while pending is not None and pending[0] <= seq:
            if pending[0] == seq:
                personal = personal or {}
                personal[pending[1]] = (pending[2], pending[3])
            pending = next(personal_rows, None)
        payload = checker.feed(seq, canonical.encode("utf-8"), leaf, chain, personal)
        if payload is None:
            continue
        actor = payload.get("actor") or {}
        target = payload.get("target") or {"type": "", "id": ""}
        if (
            payload.get("type") != event_type
            or payload.get("time") != occurred_at.strftime(time_format)
            or actor.get("id") != actor_id
            or target.get("type") != target_type
            or target.get("id") != target_id
        ):
            add(Problem("modified", seq, "its indexed columns differ from its recorded content"))
    problems = checker.finish()
    return Report(tenant.slug, checker.events, len(checkpoints), problems)


def verify_all(slug: str | None = None) -> list[Report]:
    """Reports for one tenant (by slug) or for every tenant."""
    from accounts.models import Tenant

    # Platform verification crosses tenants on purpose; each log is then read on its own.
    with dangerously_unscoped():
        tenants = Tenant.objects.order_by("slug")
        tenants = list(tenants.filter(slug=slug) if slug else tenants)
    if slug and not tenants:
        raise LookupError(f"no tenant {slug!r}")
    return [verify_tenant(tenant) for tenant in tenants]
