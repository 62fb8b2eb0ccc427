"""What a new gunicorn worker would otherwise do inside its first requests, done before it accepts any.

A worker replaced by ``max_requests`` starts while the other worker serves alone (issue 14, worker
recycling never stalls service). Measured on the check API: the first check of a new worker took 22-27 ms
against well under 1 ms for the next ones, and the requests queued behind it made the run's p99. The cost
was lazy one-time work:

- **In the master, once** (``when_ready``; every worker inherits it by fork): the cache backends are built
  (their modules imported), and every model's default query is compiled once, which fills the models'
  field caches (``Model._meta``) that the first query of each model otherwise fills.
- **In each new worker** (``post_worker_init``, before its first accept): its database and cache
  connections are opened. (Planning a statement on each of the check path's tables as well, so that the new
  PostgreSQL backend loaded their catalog entries early, cost 12 ms before the first accept and saved the
  first request less: dropped.)

Nothing here reads or writes a tenant's data: the cache read asks for a key nobody writes. A failure is
logged by the hook and skipped: the first request then does the work, as before. Jobs, shells and tests
never run these hooks.
"""

from __future__ import annotations

from django.apps import apps
from django.conf import settings
from django.core.cache import caches
from django.db import connections


def in_master() -> None:
    """Import and build what every worker uses; compile each model's query. Leaves no connection open."""
    for alias in settings.CACHES:
        caches[alias]  # noqa: B018 - building the backend imports its modules; it connects on first use
    for model in apps.get_models():
        model._meta.get_fields()  # forward and reverse relations: what select_related and joins walk
        queryset = model._base_manager.all()
        queryset.query.get_compiler(using=queryset.db).as_sql()
    connections.close_all()  # compiling may have asked the server its version: workers must not share it


def in_worker() -> None:
    """Open this worker's database and cache connections."""
    connections["default"].ensure_connection()
    for alias in settings.CACHES:
        caches[alias].get("portcullis:warm-up")  # a fault is a miss (portal.cache): never an error here
