"""Shared set-up for the benchmark suites: a migrated PostgreSQL database, timing helpers."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from urllib.parse import urlparse


def ensure_database() -> None:
    """Create the database named by DATABASE_URL when it is PostgreSQL and missing (before django.setup)."""
    url = urlparse(os.environ["DATABASE_URL"])
    if url.scheme not in {"postgres", "postgresql"}:
        return
    import psycopg

    name = url.path.lstrip("/")
    admin = url._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def percentiles(samples: list[float]) -> tuple[float, float]:
    """(p50, p99) of samples."""
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return statistics.median(ordered), p99


def per_second(func: Callable[[], object], *, seconds: float = 1.0) -> float:
    """How many calls of ``func`` complete per second (run for about ``seconds``)."""
    count, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for _ in range(100):
            func()
        count += 100
    return count / elapsed


def line(label: str, value: str) -> None:
    """Print one figure, aligned."""
    print(f"  {label:<58} {value}")  # noqa: T201
