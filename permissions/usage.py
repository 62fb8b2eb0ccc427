"""Last use of permissions: successful checks made for a page, an export or an API call.

At most one write per (tenant, user, module or resource, action) per day and process: an in-memory set
remembers today's keys. Writes are upserts of many rows at once, made off the answer's path: a use is
queued, and a writer thread of the process writes the queue every ``USAGE_FLUSH_SECONDS`` (1 s by
default) in one statement (``portal.upsert``), or sooner when ``USAGE_FLUSH_ROWS`` uses are waiting. A
process that exits normally (a recycled gunicorn worker, a command) writes what is queued first; a
process killed outright loses at most its last second of last-use marks, which are evidence for reviews,
not permissions.

The same thread writes for the listeners (intelligence's use counts): a listener with something to write
calls ``nudge()``. The thread keeps its database connection between flushes as a web request does
(``CONN_MAX_AGE``, health checks, closed after an error) and closes it after two flush intervals without
work: a busy process writes its marks and counts over one connection, not a new one per second.

``USAGE_FLUSH_SECONDS = 0`` writes each use at once, in the caller's thread (the test suite, where each
test's transaction is invisible to another thread's connection).
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time

from django.conf import settings
from django.db import DatabaseError, IntegrityError, connections, transaction
from django.utils import timezone

from permissions import engine
from permissions.models import Module, Resource, UsageRecord
from permissions.vocabulary import ACTIONS
from portal.upsert import upsert

log = logging.getLogger(__name__)

_seen: set[tuple] = set()
_seen_day = [None]
_queue: dict[tuple, tuple] = {}  # dedupe key -> (tenant, user, module, resource, target key, action, when)
_lock = threading.Lock()
_wake = threading.Condition(_lock)
_writer: dict[str, threading.Thread | None] = {"thread": None}  # this process's (forgotten at a fork)
_nudged = [False]  # a listener has something to write (reset by flush())
_urgent = [False]  # write without waiting out the interval (reset by flush())
# Other apps' hooks (intelligence's use counts): on_use(tenant_id, user_id, module_id, action, when) for every
# recorded use, before the daily dedupe; on_flush(periodic=...) wherever this module writes its queue (periodic:
# the writer thread's own round, which a listener may skip to gather longer; never at exit or on request).
_listeners: list[tuple] = []


def add_listener(on_use, on_flush) -> None:
    """Call ``on_use`` for every use (it must only queue, never touch the database) and ``on_flush`` when
    the queue is written (registering twice is a no-op)."""
    if (on_use, on_flush) not in _listeners:
        _listeners.append((on_use, on_flush))


def forget_seen() -> None:
    """Clear the in-memory dedupe (tests)."""
    _seen.clear()


def _flush_seconds() -> float:
    return float(getattr(settings, "USAGE_FLUSH_SECONDS", 1.0))


def _flush_rows() -> int:
    return int(getattr(settings, "USAGE_FLUSH_ROWS", 500))


def _target_ids(user, target) -> tuple[int, int | None, str] | None:
    if isinstance(target, Resource):
        return target.module_id, target.pk, f"r{target.pk}"
    if isinstance(target, Module):
        return target.pk, None, f"m{target.pk}"
    entry = engine.compiled_for(user)
    module_id = entry.keys.get(str(target)) if entry else None
    if module_id is None:
        return None
    return module_id, None, f"m{module_id}"


def record_use(user, action, target) -> bool:
    """Remember that ``user`` used ``action`` on ``target`` now; True when a use was recorded (queued, or
    written at once when ``USAGE_FLUSH_SECONDS`` is 0), False when already recorded today."""
    if getattr(user, "tenant_id", None) is None:
        return False
    ids = _target_ids(user, target)
    if ids is None:
        return False
    module_id, resource_id, key = ids
    now = timezone.now()
    today = now.date()
    action = ACTIONS[action].value
    for on_use, _on_flush in _listeners:
        on_use(user.tenant_id, user.pk, module_id, action, now)
    dedupe = (user.tenant_id, user.pk, key, action)
    if dedupe in _seen and _seen_day[0] == today:  # the common case, decided without the lock
        return False
    row = (user.tenant_id, user.pk, module_id, resource_id, key, action, now)
    with _lock:
        if _seen_day[0] != today:
            _seen.clear()
            _seen_day[0] = today
        if dedupe in _seen:
            return False
        _seen.add(dedupe)
        if _flush_seconds() > 0:
            _queue[dedupe] = row
            _ensure_writer()
            if len(_queue) == 1 or len(_queue) >= _flush_rows():
                _wake.notify()  # the first use starts the interval; a full queue ends it
            return True
    _write([row])
    return True


_COLUMNS = (
    ("tenant_id", "bigint"),
    ("user_id", "bigint"),
    ("module_id", "bigint"),
    ("resource_id", "bigint"),
    ("target_key", "text"),
    ("action", "text"),
    ("last_used_at", "timestamptz"),
)


def _upsert(rows: list[tuple]) -> None:
    """One statement adding or moving forward each (tenant, user, target, action) row, from plain tuples
    (no model instance on the answer's path)."""
    upsert(
        UsageRecord._meta.db_table,
        _COLUMNS,
        rows,
        conflict="tenant_id, user_id, target_key, action",
        update="last_used_at = excluded.last_used_at",
    )


def _write(rows: list[tuple]) -> None:
    """Upsert ``rows`` in one statement; when one of them no longer can be written (its user or resource
    was deleted meanwhile), the others are written one by one and that one is dropped."""
    if not rows:
        return
    try:
        with transaction.atomic():
            _upsert(rows)
    except IntegrityError:
        for row in rows:
            try:
                with transaction.atomic():
                    _upsert([row])
            except IntegrityError:
                log.info("usage of a deleted user or resource dropped: %s", row)


def flush(*, periodic: bool = False) -> int:
    """Write every queued use now (in the caller's thread); the number of uses written. ``periodic``: the
    writer thread's round (listeners may keep gathering)."""
    with _lock:
        rows = list(_queue.values())
        _queue.clear()
        _nudged[0] = _urgent[0] = False
        _wake.notify()  # a writer waiting out an interval starts again from the next use
    for _on_use, on_flush in _listeners:
        on_flush(periodic=periodic)
    try:
        _write(rows)
    except DatabaseError:
        log.exception("could not write %d usage records", len(rows))
        return 0
    return len(rows)


def nudge() -> None:
    """A listener has queued something to write: the writer thread writes it within the flush interval (as it
    does the first queued use). Listeners call it when their queue stops being empty, not at every item."""
    if _flush_seconds() <= 0:
        return  # no writer thread: whoever flushes writes the listeners' queues too
    with _lock:
        _nudged[0] = True
        _ensure_writer()
        _wake.notify()


def flush_soon() -> None:
    """Have the writer thread write what is queued now, not at the end of its interval: a gunicorn worker
    about to retire calls it some requests ahead (portal/gunicorn.conf.py), so that its exit, during which
    the other workers serve alone, has little left to write."""
    with _lock:
        _urgent[0] = True
        _wake.notify()


def _work_waiting() -> bool:
    return bool(_queue) or _nudged[0]


def _tend_connections() -> None:
    """What Django does at a request's start and end, for the writer's own connection: close it when it broke
    or is older than ``CONN_MAX_AGE``, and have the next query check its health."""
    for conn in connections.all(initialized_only=True):
        conn.close_if_unusable_or_obsolete()


def _run_writer() -> None:
    """The writer thread: waits for a first queued use (or a listener's nudge), lets uses gather for the
    flush interval (or until the row limit), writes them; closes its connection after two idle intervals."""
    while True:
        with _lock:
            idle_since = time.monotonic()  # the idle limit is read again at each wake: a setting may change
            while not _work_waiting() and (idle_left := idle_since + 2 * _flush_seconds() - time.monotonic()) > 0:
                _wake.wait(idle_left)
            if not _work_waiting():
                idle = True
            else:
                idle = False
                due = time.monotonic() + _flush_seconds()
                while (
                    _work_waiting()
                    and not _urgent[0]
                    and len(_queue) < _flush_rows()
                    and (left := due - time.monotonic()) > 0
                ):
                    _wake.wait(left)
        if idle:
            connections.close_all()
            with _lock:  # no connection left to close: wait for work without a time limit
                while not _work_waiting():
                    _wake.wait()
            continue
        _tend_connections()
        flush(periodic=True)
        _tend_connections()


def _ensure_writer() -> None:
    """Start this process's writer thread (again after a fork: threads do not survive one, and the fork
    hook below forgets the parent's). Holds _lock."""
    if _writer["thread"] is not None:
        return
    thread = threading.Thread(target=_run_writer, name="usage-writer", daemon=True)
    _writer["thread"] = thread
    thread.start()


def _after_fork_in_child() -> None:
    """A forked process starts with a free lock and an empty queue (the parent writes its own uses)."""
    global _lock, _wake
    _lock = threading.Lock()
    _wake = threading.Condition(_lock)
    _queue.clear()
    _nudged[0] = _urgent[0] = False
    _writer["thread"] = None


os.register_at_fork(after_in_child=_after_fork_in_child)
atexit.register(flush)
