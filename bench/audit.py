"""Audit trail benchmarks (PostgreSQL): appends per second, and seconds to verify a large log.

Creates its own database (DATABASE_URL's name + ``_audit``, e.g. portcullis_bench_audit), migrates it, and drops
it at the end. ``--scale full``: 5,000 appends and a 1,000,000-event log; ``small``: 500 and 50,000.
Appends are measured three ways: one writer on one tenant; four writer processes on one busy tenant
(they queue on the tenant's lock: positions are gapless per tenant); four writers on four tenants.
The large log is generated with bulk COPY from hashes computed in Python (not timed); then a checkpoint
is signed over it and witnessed by a witness running as its own process (``python -m audit.witness``, timed
together: target < 15 s for 1M events), ``audit.verify.verify_tenant`` recomputes everything with the
witness as root of trust (timed), and the standalone verifier checks an export with an inclusion proof for
every event (timed: target < 20 s for 1M events; writing the export is not timed).
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg


def _bench_db(settings_dict) -> str:
    """The audit benchmark's own database, named after DATABASE_URL's (portcullis_bench -> portcullis_bench_audit):
    two checkouts benchmarking on one server with their own databases never drop each other's."""
    return f"{settings_dict['NAME']}_audit"


def _say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _admin_connection(settings_dict) -> psycopg.Connection:
    return psycopg.connect(
        host=settings_dict["HOST"] or "127.0.0.1",
        port=settings_dict["PORT"] or 5432,
        user=settings_dict["USER"],
        password=settings_dict["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    )


def _use_bench_database():
    from django.db import connections

    connection = connections["default"]
    if connection.vendor != "postgresql":
        raise SystemExit("bench.audit needs PostgreSQL (DATABASE_URL=postgres://...)")
    connection.close()
    settings_dict = connection.settings_dict
    name = _bench_db(settings_dict)
    with _admin_connection(settings_dict) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    settings_dict["NAME"] = name
    return settings_dict


def _drop_bench_database(settings_dict) -> None:
    from django.db import connections

    connections["default"].close()
    with _admin_connection(settings_dict) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{settings_dict["NAME"]}"')


def bench_appends(count: int) -> float:
    """Events appended per second, one event per transaction, with an actor, a person target and an origin."""
    from django.db import transaction

    import audit
    from accounts import services
    from accounts.scoping import tenant_scope
    from audit.context import Origin, origin
    from audit.events import EventType
    from permissions.models import Role

    tenant = services.create_tenant(name="Append bench", slug="append-bench")
    with tenant_scope(tenant):
        role = Role.objects.get(key="administrator")
    actor = services.create_user(tenant=tenant, email="actor@bench.example", password=None, role=role)
    target = services.create_user(tenant=tenant, email="target@bench.example", password=None, role=role)
    with origin(Origin(address="198.51.100.7", user_agent="bench/1.0", request_id="bench-request-0001")):
        started = time.perf_counter()
        for i in range(count):
            with transaction.atomic():
                audit.record(
                    EventType.USER_CHANGED,
                    tenant=tenant,
                    actor=actor,
                    target=target,
                    before={"full_name": f"Name {i}", "level": i},
                    after={"full_name": f"Name {i + 1}", "level": i + 1},
                    reason="bench",
                )
        elapsed = time.perf_counter() - started
    return count / elapsed


_WRITER = """
import os, sys, time
import django
django.setup()
from django.db import transaction
import audit
from accounts import services
from audit.events import EventType
from audit.recording import Target

worker, count, start, shared = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
if shared:  # every writer appends to the same (busy) tenant
    from accounts.models import Tenant
    tenant = Tenant.objects.get(slug=shared)
else:
    tenant = services.create_tenant(name=f"Writer {worker}", slug=f"writer-{worker}")
while not os.path.exists(start):
    time.sleep(0.002)
for i in range(count):
    with transaction.atomic():
        audit.record(EventType.USER_CHANGED, tenant=tenant, target=Target("demo.thing", str(i), f"thing {i}"),
                     before={"level": i}, after={"level": i + 1}, reason="bench")
"""


def bench_concurrent_appends(settings_dict, processes: int, count: int, *, one_tenant: bool = False) -> float:
    """Events appended per second by ``processes`` writers at once, each on its own tenant, or all on one
    busy tenant (``one_tenant``: they queue on the tenant's lock, since positions are gapless per tenant)."""
    import subprocess
    from urllib.parse import quote

    password = f":{quote(settings_dict['PASSWORD'])}" if settings_dict["PASSWORD"] else ""
    url = (
        f"postgres://{quote(settings_dict['USER'])}{password}@{settings_dict['HOST'] or '127.0.0.1'}:"
        f"{settings_dict['PORT'] or 5432}/{settings_dict['NAME']}"
    )
    with tempfile.TemporaryDirectory() as work:
        start = Path(work) / "go"
        env = {**os.environ, "DATABASE_URL": url, "PORTCULLIS_VAR_DIR": work, "PORTCULLIS_HTTPS": "0"}
        env["DJANGO_SETTINGS_MODULE"] = "portal.settings"
        # The writers share this process's secrets rather than racing to generate their own.
        from django.conf import settings as django_settings

        from vault import masterkeys

        keys = masterkeys.load()
        env["SECRET_KEY"] = django_settings.SECRET_KEY
        env[masterkeys.ENV_NAME] = ",".join(f"{i}:{base64.b64encode(k).decode()}" for i, k in keys.keys.items())
        shared = ""
        if one_tenant:
            from accounts import services

            shared = f"busy-{int(time.time())}"
            services.create_tenant(name="Busy tenant", slug=shared)
        writers = [
            subprocess.Popen([sys.executable, "-c", _WRITER, str(n), str(count), str(start), shared], env=env)
            for n in range(processes)
        ]
        time.sleep(3)  # every writer has started Django and made its tenant
        started = time.perf_counter()
        start.touch()
        for writer in writers:
            if writer.wait(timeout=600):
                raise SystemExit("a writer failed")
        return processes * count / (time.perf_counter() - started)


def durable_commits_per_second(count: int = 500) -> float:
    """The server's ceiling for this benchmark: single-row INSERT + COMMIT per second from one client."""
    from django.db import connection

    raw = connection.connection
    with raw.cursor() as cursor:
        cursor.execute("CREATE TABLE commit_probe (id serial PRIMARY KEY, v text)")  # logged, unlike a temp table
    raw.commit()
    started = time.perf_counter()
    for _ in range(count):
        with raw.cursor() as cursor:
            cursor.execute("INSERT INTO commit_probe (v) VALUES ('x')")
        raw.commit()
    elapsed = time.perf_counter() - started
    with raw.cursor() as cursor:
        cursor.execute("DROP TABLE commit_probe")
    raw.commit()
    return count / elapsed


def _generate(tenant_id: int, count: int) -> None:
    """Write ``count`` events of one tenant with COPY, hashes computed here."""
    from django.db import connection

    from audit.canonical import canonical_bytes

    start = datetime(2026, 1, 1, tzinfo=UTC)
    commitment = {"$pii": "ab" * 32}
    dumps = json.dumps
    sha256 = hashlib.sha256
    previous = bytes(32)
    raw = connection.connection  # the psycopg connection under Django's
    batch = 50_000
    for first in range(0, count, batch):
        buffer = io.StringIO()
        for seq in range(first, min(first + batch, count)):
            moment = start + timedelta(seconds=seq)
            payload = {
                "v": 1,
                "tenant": tenant_id,
                "seq": seq,
                "type": "user.changed",
                "time": moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                "actor": {"id": 7, "label": commitment},
                "target": {"type": "accounts.user", "id": str(seq % 500), "label": commitment},
                "before": {"level": seq, "role": "basic"},
                "after": {"level": seq + 1, "role": "advanced"},
                "reason": f"generated event {seq}",
                "address": commitment,
                "user_agent": "Mozilla/5.0 (X11; Linux x86_64) bench",
                "request_id": f"{seq:032x}",
            }
            # For these ASCII, integer-only payloads sorted compact JSON is exactly RFC 8785 (checked below).
            text = dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
            if seq == 0:
                assert text.encode() == canonical_bytes(payload)
            leaf = sha256(b"\x00" + text.encode()).digest()
            previous = sha256(previous + leaf).digest()
            row = (
                tenant_id, seq, "user.changed", moment.isoformat(), 7, "accounts.user", str(seq % 500),
                text.replace("\\", "\\\\"), leaf.hex(), previous.hex(),
            )  # fmt: skip
            buffer.write("\t".join(map(str, row)) + "\n")
        with (
            raw.cursor() as cursor,
            cursor.copy(
                "COPY audit_auditevent (tenant_id, seq, event_type, occurred_at, actor_id, target_type, target_id, "
                "canonical, leaf_hash, chain_hash) FROM STDIN"
            ) as copy,
        ):
            copy.write(buffer.getvalue())
        raw.commit()


class _Witness:
    """A witness process on a free loopback port, with its key and state in ``directory``."""

    def __init__(self, directory: Path) -> None:
        import subprocess

        root = Path(__file__).resolve().parents[1]
        self.logs = directory / "logs.txt"
        self.logs.touch()
        base = [sys.executable, "-m", "audit.witness", "--key", str(directory / "key"), "--name", "bench-witness"]
        self.vkey = subprocess.run([*base, "--vkey"], cwd=root, capture_output=True, text=True, check=True).stdout
        self.process = subprocess.Popen(
            [*base, "--state", str(directory / "state"), "--logs", str(self.logs), "--listen", "127.0.0.1:0"],
            cwd=root,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.url = self.process.stdout.readline().split(" listening on ")[1].strip()

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def bench_verify(count: int, directory: Path) -> dict:
    """Seconds to generate, to sign and witness a checkpoint, to verify from the database (with the witness as
    root of trust), to verify an export with an inclusion proof per event; CPU seconds of the DB verifier."""
    from django.db import connection

    from accounts.models import Tenant
    from audit import keys, signednote, witnessing
    from audit.checkpoints import make_checkpoint
    from audit.export import write_export
    from audit.verify import configured_trust, verify_tenant
    from audit.verify_export import Trust, verify_file

    tenant = Tenant.objects.create(name="Verify bench", slug="verify-bench")
    witness = _Witness(directory)
    try:
        with witness.logs.open("a") as handle:
            handle.write(f"log {keys.log_vkey(tenant.pk)}\n")
        started = time.perf_counter()
        _generate(tenant.pk, count)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE audit_auditevent")
        figures = {"generated": time.perf_counter() - started}
        # Configuring the witness is itself audited: the event lands after the generated ones.
        witnessing.configure(tenant, add=("bench-witness", witness.vkey.strip(), witness.url), quorum_value=1)
        started = time.perf_counter()
        checkpoint = make_checkpoint(tenant)
        figures["signed"] = time.perf_counter() - started
        if not witnessing.status(tenant)["witnessed"] or checkpoint.tree_size < count:
            raise SystemExit("the checkpoint was not witnessed")
        trust = configured_trust(
            tenant, witnesses=[signednote.parse_vkey(witness.vkey)], quorum=1, witness_urls=[witness.url]
        )
        started, cpu = time.perf_counter(), time.process_time()
        report = verify_tenant(tenant, trust)
        figures["verified"], figures["cpu"] = time.perf_counter() - started, time.process_time() - cpu
        if not report.ok or report.events < count:
            raise SystemExit(f"verification failed: {report.problems[:5]}")
        export = directory / "export.jsonl"
        started = time.perf_counter()
        with export.open("w", encoding="utf-8") as handle:
            write_export(tenant, handle, proofs=True)
        figures["exported"] = time.perf_counter() - started
        pinned = keys.trusted_public_keys()
        started, cpu = time.perf_counter(), time.process_time()
        _header, problems = verify_file(
            str(export), pinned, Trust(witnesses=trust.witnesses, quorum=1, checkpoints=trust.checkpoints)
        )
        figures["proofs"], figures["proofs_cpu"] = time.perf_counter() - started, time.process_time() - cpu
        if problems:
            raise SystemExit(f"export verification failed: {problems[:5]}")
        return figures
    finally:
        witness.stop()


def run(args) -> None:
    """Print appends per second and the seconds to verify a large log."""
    from django.conf import settings
    from django.core.management import call_command

    appends, events = (5_000, 1_000_000) if args.scale == "full" else (500, 50_000)
    settings_dict = _use_bench_database()
    with tempfile.TemporaryDirectory() as keys_dir:
        settings.AUDIT_KEY_FILE = Path(keys_dir) / "audit_signing_key.json"
        settings.AUDIT_DEMO_KEYS = True  # a throwaway key generated for the benchmark
        settings.AUDIT_DEMO_WITNESS_FILE = Path(keys_dir) / "no-demo-witness.txt"
        try:
            call_command("migrate", verbosity=0)
            ceiling = durable_commits_per_second()
            per_second = bench_appends(appends)
            _say(
                f"audit appends, 1 writer on 1 tenant: {per_second:,.0f} events/s "
                f"({appends:,} events, one transaction each, PostgreSQL)"
            )
            _say(f"  (reference: this server commits {ceiling:,.0f} single-row transactions/s from one client)")
            busy = bench_concurrent_appends(settings_dict, 4, appends // 2, one_tenant=True)
            _say(f"audit appends, 4 writer processes on 1 busy tenant: {busy:,.0f} events/s in total")
            together = bench_concurrent_appends(settings_dict, 4, appends // 2)
            _say(f"audit appends, 4 writer processes on 4 tenants: {together:,.0f} events/s in total")
            f = bench_verify(events, Path(keys_dir))
            _say(f"audit generate {events:,} events (COPY, not a target): {f['generated']:.1f} s")
            _say(f"audit sign and witness a checkpoint over {events:,} events (witness process): {f['signed']:.1f} s")
            _say(
                f"audit verify {events:,} events (hashes, chain, Merkle root, checkpoints, witness cosignature and "
                f"latest checkpoint): {f['verified']:.1f} s"
            )
            _say(f"  (of which {f['cpu']:.1f} CPU seconds in the verifier process; the database works in parallel)")
            _say(f"audit write an export with an inclusion proof per event (not a target): {f['exported']:.1f} s")
            _say(f"audit verify {events:,} events with inclusion proofs (standalone verifier): {f['proofs']:.1f} s")
            _say(
                f"  ({f['proofs_cpu']:.1f} CPU seconds in the main process; the verifier reads the file in "
                f"{os.cpu_count()} processes, audit/verify_parallel.py)"
            )
            load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
            _say(
                f"  cores: {os.cpu_count()}, load average {load}; targets: >= 1,000 appends/s, sign and witness 1M "
                "< 15 s, verify 1M with proofs < 20 s"
            )
        finally:
            _drop_bench_database(settings_dict)
