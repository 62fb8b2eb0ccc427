"""Use counts per (user, module, action, hour): the volume and time-of-day signal for analytics and
anomalies (``permissions.usage`` keeps only the last use, once a day).

Counts gather in memory and are added to the database in one statement at most every
``USAGE_FLUSH_SECONDS``, by the usage writer thread of the process (``permissions.usage.nudge``), over its
connection. When that setting is 0 (the test suite) they
wait for an explicit ``flush()`` (``permissions.usage.flush``, the anomaly job), so a use never costs a
query on the answer's path. A process killed outright loses its last second of counts: evidence, never
permissions.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import Counter
from datetime import datetime

from django.conf import settings
from django.db import DatabaseError, transaction

from permissions import usage
from portal.upsert import upsert

log = logging.getLogger(__name__)

_counts: Counter = Counter()
_lock = threading.Lock()
_armed: dict[str, object] = {"pid": None, "armed": False}  # a nudge is out since the last flush


def _interval() -> float:
    return float(getattr(settings, "USAGE_FLUSH_SECONDS", 1.0))


def count_use(tenant_id: int, user_id: int, module_id: int, action: str, when: datetime) -> None:
    """Queue one use (``permissions.usage`` calls it for every use it sees)."""
    hour = when.replace(minute=0, second=0, microsecond=0)
    with _lock:
        _counts[(tenant_id, user_id, module_id, action, hour)] += 1
        if _interval() > 0:
            _arm()


def forget() -> None:
    """Drop the queued counts (tests: nothing of a rolled-back test may be written in the next one)."""
    with _lock:
        _counts.clear()


def _arm() -> None:
    """Have the usage writer thread write the counts within the interval (holds _lock); once per flush."""
    if _armed["armed"] and _armed["pid"] == os.getpid():
        return
    _armed["armed"], _armed["pid"] = True, os.getpid()
    usage.nudge()


def flush() -> int:
    """Add every queued count to the database now; how many (user, module, action, hour) rows were written."""
    with _lock:
        rows = list(_counts.items())
        _counts.clear()
        _armed["armed"] = False
    if not rows:
        return 0
    try:
        _add(rows)
    except DatabaseError:
        log.exception("could not write %d use counts", len(rows))
        return 0
    return len(rows)


def _add(rows) -> None:
    """One upsert adding each count to its row (``portal.upsert``: a fixed statement on PostgreSQL)."""
    from intelligence.models import UsageCount

    table = UsageCount._meta.db_table
    with transaction.atomic():
        upsert(
            table,
            (
                ("tenant_id", "bigint"),
                ("user_id", "bigint"),
                ("module_id", "bigint"),
                ("action", "text"),
                ("hour", "timestamptz"),
                ("count", "bigint"),
            ),
            [(*key, count) for key, count in rows],
            conflict="tenant_id, user_id, module_id, action, hour",
            update=f"count = {table}.count + excluded.count",
        )


def _after_fork_in_child() -> None:
    global _lock
    _lock = threading.Lock()
    _counts.clear()
    _armed["armed"], _armed["pid"] = False, None


os.register_at_fork(after_in_child=_after_fork_in_child)
