"""Audit fixtures: a filled log, tampering helpers that step around the append-only triggers."""

from contextlib import contextmanager

import pytest
from django.db import connection, transaction

import audit
from audit.events import EventType
from audit.recording import Target
from audit.triggers import create_statements, drop_statements


@pytest.fixture(autouse=True)
def _own_signing_key(settings, tmp_path):
    """Each test signs with a key of its own (never the developer's var/ file)."""
    settings.AUDIT_KEY_FILE = tmp_path / "audit_signing_key.json"
    settings.AUDIT_SIGNING_KEY = ""
    settings.AUDIT_RETIRED_PUBLIC_KEYS = []


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
            for statement in drop_statements(vendor):
                cursor.execute(statement)
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            if vendor == "postgresql":
                cursor.execute("SET session_replication_role = origin")
            else:
                for statement in create_statements(vendor):
                    cursor.execute(statement)


def sql(statement, params=()):
    """Run raw SQL as the attacker would."""
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
