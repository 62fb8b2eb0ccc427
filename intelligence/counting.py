"""Use counts per (user, module, action, hour): the volume and time-of-day signal for analytics and
anomalies (``permissions.usage`` keeps only the last use, once a day).

Counts gather in memory and are added to the database in one statement at most every ``GATHER_SECONDS``
(10 s), by the usage writer thread of the process (``permissions.usage.nudge``), over its connection. When
``USAGE_FLUSH_SECONDS`` is 0 (the test suite) they wait for an explicit ``flush()`` (``permissions.usage.flush``,
the anomaly job), so a use never costs a query on the answer's path. A process that exits normally writes
them first; one killed outright loses its last 10 s of counts: evidence, never permissions.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import Counter
from datetime import datetime

from django.conf import settings
from django.db import DatabaseError, transaction

from permissions import usage
from portal.upsert import upsert

log = logging.getLogger(__name__)

_counts: Counter = Counter()
_lock = threading.Lock()
_armed: dict[str, bool] = {"armed": False}  # a nudge is out since the last flush (reset in a forked child)
_written_at = [float("-inf")]  # monotonic time of the last write
# Counts gather this long between the writer's rounds (USAGE_COUNTS_GATHER_SECONDS): under load the same
# (user, module, action, hour) recurs, so a row is written once per period instead of once a second (batched
# checks: the count upsert was most of the writer thread's work). An exit, a job or a test flushes at once.
GATHER_SECONDS = 10.0


# The count table's columns in the order of a queued row (portal.upsert).
COLUMNS = (
    ("tenant_id", "bigint"),
    ("user_id", "bigint"),
    ("module_id", "bigint"),
    ("action", "text"),
    ("hour", "timestamptz"),
    ("count", "bigint"),
)


def _gather_seconds() -> float:
    return float(getattr(settings, "USAGE_COUNTS_GATHER_SECONDS", GATHER_SECONDS))


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
        _written_at[0] = float("-inf")


def _arm() -> None:
    """Have the usage writer thread write the counts within the interval (holds _lock); once per flush."""
    if _armed["armed"]:
        return
    _armed["armed"] = True
    usage.nudge()


def flush(*, periodic: bool = False) -> int:
    """Add every queued count to the database now; how many (user, module, action, hour) rows were written.

    ``periodic`` (the usage writer's own round): counts gather for ``GATHER_SECONDS`` between writes, as the
    same (user, module, action, hour) recurs; the round is skipped, and the writer asked again, until then."""
    now = time.monotonic()
    with _lock:
        if periodic and _counts and now - _written_at[0] < _gather_seconds():
            again = True
        else:
            again = False
            rows = list(_counts.items())
            _counts.clear()
            _armed["armed"] = False
            _written_at[0] = now
    if again:
        usage.nudge()  # the writer comes back within its interval
        return 0
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
            COLUMNS,
            [(*key, count) for key, count in rows],
            conflict="tenant_id, user_id, module_id, action, hour",
            update=f"count = {table}.count + excluded.count",
        )


def _after_fork_in_child() -> None:
    global _lock
    _lock = threading.Lock()
    _counts.clear()
    _armed["armed"] = False
    _written_at[0] = float("-inf")


os.register_at_fork(after_in_child=_after_fork_in_child)
