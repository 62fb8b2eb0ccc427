"""Audit fixtures: a filled log, tampering helpers that step around the append-only triggers."""

from contextlib import contextmanager

import pytest
from django.db import connection, transaction

import audit
from audit.events import EventType
from audit.recording import Target
from audit.triggers import PROTECTED_TABLES, create_statements, drop_statements


@pytest.fixture(autouse=True)
def _own_signing_key(settings, tmp_path):
    """Each test signs with a key of its own (never the developer's var/ file)."""
    settings.AUDIT_KEY_FILE = tmp_path / "audit_signing_key.json"
    settings.AUDIT_SIGNING_KEY = ""
    settings.AUDIT_RETIRED_PUBLIC_KEYS = []
    settings.AUDIT_DEMO_WITNESS_FILE = tmp_path / "no-demo-witness.txt"  # never the developer's `make run` witness


def fill(tenant, count, *, actor=None, prefix="change"):
    """Append ``count`` events to the tenant's log, one transaction each."""
    for i in range(count):
        with transaction.atomic():
            audit.record(
                EventType.USER_CHANGED,
                tenant=tenant,
                actor=actor,
                target=Target(type="demo.thing", id=str(i), label=f"thing {i}"),
                before={"level": i},
                after={"level": i + 1},
                reason=f"{prefix} {i}",
            )


@contextmanager
def triggers_off():
    """What an attacker with the tables' owner role can do: set the append-only triggers aside."""
    vendor = connection.vendor
    with connection.cursor() as cursor:
        if vendor == "postgresql":
            # A superuser's way round triggers, without ALTER TABLE (which pending FK checks would block).
            cursor.execute("SET session_replication_role = replica")
        else:
            for statement in drop_statements(vendor, PROTECTED_TABLES):
                cursor.execute(statement)
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            if vendor == "postgresql":
                cursor.execute("SET session_replication_role = origin")
            else:
                for statement in create_statements(vendor, PROTECTED_TABLES):
                    cursor.execute(statement)


def sql(statement, params=()):
    """Run raw SQL as the attacker would."""
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


class WitnessProcess:
    """``python -m audit.witness`` as its own process on a free loopback port, with its own key and state."""

    def __init__(self, directory, name="witness-a"):
        import subprocess
        import sys
        from pathlib import Path

        self.directory, self.name = directory, name
        directory.mkdir(parents=True, exist_ok=True)
        self.key, self.state, self.logs = directory / "key", directory / "state.sqlite3", directory / "logs.txt"
        self.logs.touch()
        root = Path(__file__).resolve().parents[2]
        base = [sys.executable, "-m", "audit.witness", "--key", str(self.key), "--name", name]
        self.vkey = subprocess.run(
            [*base, "--vkey"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        self.process = subprocess.Popen(
            [*base, "--state", str(self.state), "--logs", str(self.logs), "--listen", "127.0.0.1:0"],
            cwd=root,
            stdout=subprocess.PIPE,
            stderr=(directory / "stderr.log").open("w"),
            text=True,
            env={"PATH": "/usr/bin:/bin"},  # nothing of the portal's environment
        )
        line = self.process.stdout.readline()
        assert " listening on " in line, line
        self.url = line.split(" listening on ")[1].strip()

    def trust(self, tenant):
        """Witness ``tenant``'s log: its verifier key added to the witness's list of logs."""
        from audit import keys

        with self.logs.open("a") as handle:
            handle.write(f"log {keys.log_vkey(tenant.pk)}\n")

    def latest(self, tenant):
        """The latest checkpoint it cosigned for the tenant's log (what an auditor keeps)."""
        from audit.verify_export import fetch_witness_checkpoint, log_origin

        return fetch_witness_checkpoint(self.url, log_origin(tenant.pk))

    def stderr(self):
        return (self.directory / "stderr.log").read_text()

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)
        self.process.stdout.close()


@pytest.fixture
def witnesses(tmp_path):
    """Start witnesses on demand (``witnesses("a")``); every one is stopped at the end of the test."""
    started = []

    def start(name="witness-a"):
        started.append(WitnessProcess(tmp_path / name, name))
        return started[-1]

    yield start
    for witness in started:
        witness.stop()


def use_witnesses(tenant, *processes, quorum=1):
    """Configure the tenant to submit to these witness processes (which trust its log) with this quorum."""
    from audit import witnessing

    for process in processes:
        process.trust(tenant)
        witnessing.configure(tenant, add=(process.name, process.vkey, process.url))
    witnessing.configure(tenant, quorum_value=quorum)
