"""Background jobs: one idempotent entry point, ``run_due_jobs()``, that every scheduler calls.

Apps register their jobs here (``register(...)`` from AppConfig.ready). ``make run`` calls the entry
point every minute from a background loop; production calls it from Celery beat (portal/celery.py).
Each job must be idempotent on its own; on top of that a lock makes concurrent runs wait their turn
instead of doing the same work twice. Per-tenant jobs run inside an explicit tenant scope (AZ-7).
"""

from __future__ import annotations

import fcntl
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.utils import timezone

from accounts.scoping import dangerously_unscoped, tenant_scope

logger = logging.getLogger("portcullis.jobs")
_LOCK_KEY = 0x706F7274  # "port": the advisory lock id of the job runner


@dataclass(frozen=True)
class Job:
    """A unit of scheduled work. Per-tenant jobs get the tenant; platform jobs get nothing."""

    name: str
    func: Callable
    per_tenant: bool = True
    last: bool = False


_REGISTRY: dict[str, Job] = {}


def register(name: str, func: Callable, *, per_tenant: bool = True, last: bool = False) -> None:
    """Add a job (idempotent: registering the same name again replaces it). ``last`` jobs run after every
    other job of a run (the audit checkpoints, so a checkpoint covers what the run's other jobs recorded)."""
    _REGISTRY[name] = Job(name, func, per_tenant, last)


def registered() -> list[Job]:
    """The registered jobs, in registration order, those registered ``last`` after the others."""
    jobs = list(_REGISTRY.values())
    return [job for job in jobs if not job.last] + [job for job in jobs if job.last]


@contextmanager
def _runner_lock() -> Iterator[None]:
    """One runner at a time across processes: an advisory lock on PostgreSQL, a file lock elsewhere."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [_LOCK_KEY])
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [_LOCK_KEY])
        return
    lock_path = settings.VAR_DIR / "jobs.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def lower_priority() -> int:
    """Give this process (a job process: the Celery worker's, ``run_due_jobs``) the CPU niceness
    ``JOBS_NICENESS``, so that the scheduler serves the web workers first when both want the cores: a
    fan-out of 100,000 webhook deliveries then slowed checks by +14 % at normal priority (``make bench
    --only webhooks``). Raises niceness only (lowering it needs privileges); returns the niceness now."""
    current = os.nice(0)
    if settings.JOBS_NICENESS > current:
        current = os.nice(settings.JOBS_NICENESS - current)
    return current


def run_due_jobs(now=None) -> dict[str, int]:
    """Run every registered job once; returns how many changes each job reported (ints summed over tenants)."""
    from accounts.models import Tenant

    now = now or timezone.now()
    results: dict[str, int] = {}
    with _runner_lock():
        with dangerously_unscoped():  # the runner visits every tenant, each then in its own scope
            tenants = list(Tenant.objects.filter(is_active=True).order_by("pk"))
        for job in registered():
            total = 0
            if job.per_tenant:
                for tenant in tenants:
                    with tenant_scope(tenant):
                        total += _run_one(job, tenant, now)
            else:
                total += _run_one(job, None, now)
            results[job.name] = total
    return results


def _run_one(job: Job, tenant, now) -> int:
    try:
        outcome = job.func(tenant, now) if job.per_tenant else job.func(now)
    except Exception:
        # One failing job (or tenant) must not stop the others; the failure is logged with its context.
        logger.exception("job failed", extra={"job": job.name, "tenant": getattr(tenant, "slug", None)})
        return 0
    return int(outcome or 0)
