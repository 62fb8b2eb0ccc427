"""Verify tenants' logs in the database: recompute every hash, check columns, checkpoints and signatures.

The algorithm is ``audit.verify_export.LogChecker`` (shared with the standalone export verifier); this
module feeds it the stored rows in position order and adds one database-only check: the indexed
columns (type, time, actor, target) must agree with the canonical bytes that the hashes cover.
"""

from __future__ import annotations

import json
import queue
import threading
from dataclasses import dataclass, field
from pathlib import Path

from django.db import connection
from django.utils.translation import gettext_noop

from accounts.scoping import dangerously_unscoped, tenant_scope
from audit import keys, signednote, timestamps
from audit.canonical import TIME_FORMAT
from audit.verify_export import LogChecker, Problem, Trust, fetch_witness_checkpoint, log_origin, unix_time


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
    """The tenant's checkpoints as the verifier (and the export) see them: the note with its cosignatures."""
    from audit.models import Checkpoint
    from audit.witnessing import cosignature_lines, cosigned_note

    lines = cosignature_lines(tenant)
    with tenant_scope(tenant):
        rows = list(Checkpoint.objects.order_by("index").prefetch_related("timestamps"))
    return [
        {
            "index": c.index,
            "tree_size": c.tree_size,
            "root_hash": c.root_hash,
            "time": c.created_at.strftime(TIME_FORMAT),
            "key_id": c.key_id,
            "note": cosigned_note(c, lines.get(c.pk, [])),
            "consistency": c.consistency,
            "timestamps": [t.token for t in c.timestamps.all()],
        }
        for c in rows
    ]


def configured_trust(tenant, *, fetch: bool = True, **overrides) -> Trust:
    """The roots of trust from the settings (never the database): trusted witness keys and quorum, the
    witnesses' latest cosigned checkpoints (fetched from AUDIT_TRUSTED_WITNESS_URLS), retired keys' times,
    and the checkpoint interval. ``overrides`` replace any of them (the command line's trusted inputs)."""
    import time

    from django.conf import settings

    vkeys, urls = list(settings.AUDIT_TRUSTED_WITNESSES), list(settings.AUDIT_TRUSTED_WITNESS_URLS)
    demo = Path(settings.AUDIT_DEMO_WITNESS_FILE)
    if not vkeys and keys.demo_keys() and demo.is_file():  # the `make run` demo's local witness
        for line in demo.read_text().splitlines():
            if line.strip():
                vkey, _, url = line.strip().partition(" ")
                vkeys.append(vkey)
                if url:
                    urls.append(url)
    witnesses = overrides.pop("witnesses", None)
    if witnesses is None:
        witnesses = [signednote.parse_vkey(v) for v in vkeys]
    notes = list(overrides.pop("checkpoints", []))
    if fetch:
        for url in overrides.pop("witness_urls", None) or urls:
            note = fetch_witness_checkpoint(url, log_origin(tenant.pk), settings.AUDIT_WITNESS_TIMEOUT_SECONDS)
            if note:
                notes.append(note)
    overrides.pop("witness_urls", None)
    retired = {kid: unix_time(e["retired_at"]) for kid, e in keys.trusted_keys().items() if e["retired_at"]}
    values = {
        "witnesses": witnesses,
        "quorum": settings.AUDIT_WITNESS_QUORUM if witnesses else 0,
        "checkpoints": notes,
        "retired": retired,
        "now": time.time(),
        "interval": settings.AUDIT_CHECKPOINT_INTERVAL_MINUTES * 60,
        "max_delay": settings.AUDIT_WITNESS_MAX_DELAY_SECONDS,
        "tsa_roots": timestamps.roots(),
    }
    values.update({k: v for k, v in overrides.items() if v is not None})
    return Trust(**values)


BATCH = 20_000


def _queries(tenant_id: int) -> tuple[str, str, bool]:
    from audit.models import AuditEvent, PersonalValue

    quote = connection.ops.quote_name
    postgres = connection.vendor == "postgresql"
    # PostgreSQL formats the time itself (in C, as the canonical form writes it); elsewhere Python does.
    time_column = (
        """to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')""" if postgres else "occurred_at"
    )
    events = (
        f"SELECT seq, canonical, leaf_hash, chain_hash, event_type, {time_column}, actor_id, target_type, target_id "
        f"FROM {quote(AuditEvent._meta.db_table)} WHERE tenant_id = %s AND seq > %s ORDER BY seq LIMIT {BATCH}"
    )
    personal = (
        f"SELECT seq, {quote('values')} FROM {quote(PersonalValue._meta.db_table)} "
        "WHERE tenant_id = %s AND seq >= %s AND seq <= %s"
    )
    return events, personal, postgres


def _fetch(cursor, queries, tenant_id: int, last: int, postgres: bool):
    """One batch: (event rows, {seq: {field: (salt, value)}}), or None at the end."""
    events_sql, personal_sql, _ = queries
    cursor.execute(events_sql, [tenant_id, last])
    rows = cursor.fetchall()
    if not rows:
        return None
    if not postgres:
        convert = connection.ops.convert_datetimefield_value
        rows = [(*r[:5], convert(r[5], None, connection).strftime(TIME_FORMAT), *r[6:]) for r in rows]
    cursor.execute(personal_sql, [tenant_id, rows[0][0], rows[-1][0]])
    personal: dict[int, dict[str, tuple[str, str]]] = {}
    for seq, values in cursor.fetchall():
        for name, entry in json.loads(values).items():
            personal.setdefault(seq, {})[name] = (entry["salt"], entry["value"])
    return rows, personal


def _batches(tenant_id: int):
    """Batches of the tenant's events in position order (keyset pagination: index range scans).

    On PostgreSQL the next batch is fetched by a helper thread on the same session (so it sees the same
    transaction) while this thread checks the current one: the database and Python work at once.
    """
    queries = _queries(tenant_id)
    postgres = queries[2]
    if not postgres:
        last = -1
        with connection.cursor() as cursor:
            while batch := _fetch(cursor, queries, tenant_id, last, postgres):
                yield batch
                last = batch[0][-1][0]
        return
    connection.ensure_connection()
    raw = connection.connection  # psycopg connections are thread-safe; Django's wrapper is not shared
    ready: queue.Queue = queue.Queue(maxsize=2)

    def produce():
        last = -1
        try:
            with raw.cursor() as cursor:
                while batch := _fetch(cursor, queries, tenant_id, last, postgres):
                    ready.put(batch)
                    last = batch[0][-1][0]
            ready.put(None)
        except BaseException as exc:  # handed to the consumer, which re-raises it
            ready.put(exc)

    worker = threading.Thread(target=produce, name="audit-verify-fetch", daemon=True)
    worker.start()
    try:
        while (batch := ready.get()) is not None:
            if isinstance(batch, BaseException):
                raise batch
            yield batch
    finally:
        worker.join()


def verify_tenant(tenant, trust: Trust | None = None) -> Report:
    """Verify one tenant's log; the report lists every problem with its position and kind.

    ``trust`` holds the roots of trust (default: those configured, without fetching from witnesses)."""
    checkpoints = checkpoint_dicts(tenant)
    if trust is None:
        trust = configured_trust(tenant, fetch=False)
    checker = LogChecker(tenant.pk, keys.trusted_public_keys(), checkpoints, trust)
    feed = checker.feed
    for rows, personal in _batches(tenant.pk):
        for seq, canonical, leaf, chain, event_type, occurred_at, actor_id, target_type, target_id in rows:
            payload = feed(seq, canonical.encode("utf-8"), leaf, chain, personal.get(seq), canonical)
            if payload is None:
                continue
            actor = payload.get("actor") or {}
            target = payload.get("target") or {"type": "", "id": ""}
            if (
                payload.get("type") != event_type
                or payload.get("time") != occurred_at
                or actor.get("id") != actor_id
                or target.get("type") != target_type
                or target.get("id") != target_id
            ):
                checker.problems.append(
                    Problem.of("modified", seq, gettext_noop("its indexed columns differ from its content"))
                )
    problems = checker.finish()
    return Report(tenant.slug, checker.events, len(checkpoints), problems)


def verify_all(slug: str | None = None, **trusted) -> list[Report]:
    """Reports for one tenant (by slug) or for every tenant; ``trusted`` are roots of trust given by the
    caller (see ``configured_trust``), the witnesses' checkpoints fetched from their URLs."""
    from accounts.models import Tenant

    # Platform verification crosses tenants on purpose; each log is then read on its own.
    with dangerously_unscoped():
        tenants = Tenant.objects.order_by("slug")
        tenants = list(tenants.filter(slug=slug) if slug else tenants)
    if slug and not tenants:
        raise LookupError(f"no tenant {slug!r}")
    return [verify_tenant(tenant, configured_trust(tenant, **dict(trusted))) for tenant in tenants]
