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

- **From the worker it replaces** (``hand_over`` in the retiring worker as it asks for its replacement,
  ``take_over`` in the replacement before it says it is ready): the ids of the subjects and resources the
  check API remembers (``api.check.remembered``: at most 2,000 and 4,000, the most recent). The replacement
  loads them again from the database at the current version, with the subjects' compiled sets, in a few
  statements. Measured under the check API benchmark (2 workers, 1,600 checks/s): without it each
  replacement answered its first 2-3 seconds from a cold memory, up to three statements per check, and
  the paced p99 was 4.3-5.5 ms with recycling against 3.1-3.3 ms without.

The hand-over travels as a file of ids (JSON, never pickled objects) in a directory the master makes for
itself (mode 0700, removed when it exits), named by the retiring worker's pid; the replacement deletes it
once read and ignores anything that is not a list of ids. Nothing is trusted from it but which rows to
read: each is read again from the database, in its tenant, and versioned as any cached entry.

The warm-up never writes a tenant's data. A failure is logged by the hook and skipped: the first requests
then do the work, as before. Jobs, shells and tests never run these hooks.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import tempfile
from pathlib import Path

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


_handover_dir: list[Path | None] = [None]  # made in the master, inherited by each worker


def prepare_hand_overs() -> None:
    """In the master, before the first fork: a private directory for hand-over files, removed at its exit."""
    path = Path(tempfile.mkdtemp(prefix="portcullis-handover-"))  # mode 0700
    master = os.getpid()

    def remove() -> None:
        if os.getpid() == master:  # workers inherit the handler: only the master removes the directory
            shutil.rmtree(path, ignore_errors=True)

    atexit.register(remove)
    _handover_dir[0] = path


def _hand_over_file(pid: int) -> Path | None:
    folder = _handover_dir[0]
    return None if folder is None else folder / f"{int(pid)}.json"


def hand_over() -> None:
    """In a retiring worker, before it asks for its replacement: write the ids its check API remembers."""
    from api import check

    target = _hand_over_file(os.getpid())
    if target is None:
        return
    data = {str(tenant_id): ids for tenant_id, ids in check.remembered().items()}
    partial = target.with_suffix(".partial")
    partial.write_text(json.dumps(data))
    partial.replace(target)  # whole or absent: never half a file


def _ids(value, limit: int) -> list[int]:
    if not isinstance(value, list):
        return []
    return [pk for pk in value[:limit] if type(pk) is int and 0 < pk < 2**63]


def take_over(replaces: int | None) -> int:
    """In a replacement, before it says it is ready: load what the worker it replaces remembered (the file
    is deleted once read). Returns how many ids were loaded (0: nothing to take over)."""
    from api import check

    source = _hand_over_file(replaces) if replaces else None
    if source is None:
        return 0
    try:
        data = json.loads(source.read_text())
    except (OSError, ValueError):
        return 0
    finally:
        source.unlink(missing_ok=True)
    loaded = 0
    for tenant, ids in data.items() if isinstance(data, dict) else ():
        if not (tenant.isascii() and tenant.isdigit() and len(tenant) <= 18) or not isinstance(ids, dict):
            continue
        subjects = _ids(ids.get("subjects"), check.HANDOVER_SUBJECTS)
        resources = _ids(ids.get("resources"), check.HANDOVER_RESOURCES)
        check.warm(int(tenant), subjects, resources)
        loaded += len(subjects) + len(resources)
    return loaded
