"""A worker retiring by ``max_requests`` has its replacement serving before it leaves (issue 14).

gunicorn replaces a worker only after it has exited: the master reaps it, then forks. Between the old
worker's last request and the new worker's first accept, the other workers serve alone. Measured under the
check API benchmark on two workers: 50-60 ms per replacement (the old worker's exit, the fork, the new
worker's connections), four to ten times a minute, and the requests that queued then made the p99.

Here the hand-over is the other way round:

1. A worker ``notice(max_requests)`` requests before its limit *announces* (``announce``, from the
   ``post_request`` hook) and goes on serving.
2. The master counts one worker more and forks it at once, from the preloaded application (``pre_fork``
   tells the new worker whom it replaces).
3. The new worker opens its connections (``post_worker_init``, portal/warmup.py), then says it is *ready*
   (``ready``).
4. The master asks the old worker to leave (``SIGTERM``: it finishes the request in hand and exits; its
   exit is the quick one of ``worker_exit``). If the old worker reached its limit first, it has left already.
5. When a worker that announced exits, the master counts one worker fewer (``child_exited``): its
   replacement has taken its place and nothing more is forked.

So at most one worker more than configured runs per retiring worker, for the fork and warm-up (about
20 ms of the new worker's CPU, while the others serve). A worker's requests never wait for a replacement.

Workers tell the master over a pipe the master opens before the first fork (each message: a pid, positive
for "replace me", negative for "I am ready"), then wake it with ``SIGURG``. The signal's handler only wakes
gunicorn's main loop, as gunicorn's own handlers do; the messages are read and acted on in that loop, just
before it manages its workers (``listen`` wraps the master's ``manage_workers``), so the count of workers and
the table of hand-overs change in one thread, never under a handler. The master only signals a child it has
not reaped yet, so the pid cannot belong to anyone else. ``SIGURG``'s default disposition is to be ignored:
a master started without these hooks, or a stray signal, harms nothing. If anything fails (the pipe full,
the master gone), the worker retires the ordinary way: exit at its limit, then fork.
"""

from __future__ import annotations

import os
import signal
import struct

SIGNAL = signal.SIGURG
# Requests before its limit at which a worker announces. At 800 requests/s per worker, 500 is about 0.6 s:
# the fork, the new worker's connections (about 20 ms) and its take-over of the old worker's memory
# (portal/warmup.py: 80-170 ms for 3,000 ids under the check API benchmark) fit inside, so the old worker
# rarely reaches its limit before it is asked to leave. (At 100, the old worker reached its limit first in
# 8 of 10 replacements once the take-over came in, and the other worker served alone meanwhile.)
NOTICE_REQUESTS = 500
_MESSAGE = struct.Struct("=i")  # 4 bytes: a write this small to a pipe is atomic

_pipe: tuple[int, int] | None = None  # opened in the master, inherited by every worker
_handovers: dict = {}  # in the master: a retiring worker's pid -> its replacement (gunicorn's Worker), or None


def notice(max_requests: int) -> int:
    """Requests before ``max_requests`` at which a worker announces (0: never, for tiny limits)."""
    return min(NOTICE_REQUESTS, max_requests // 4)


def listen(server) -> None:
    """In the master (``when_ready``, before the first fork): open the pipe; act on its messages each time
    the main loop manages its workers; let ``SIGURG`` wake that loop."""
    global _pipe
    reader, writer = os.pipe()
    os.set_blocking(reader, False)
    os.set_blocking(writer, False)  # a full pipe fails a worker's write (it then retires the ordinary way)
    _pipe = (reader, writer)
    manage_workers = server.manage_workers

    def manage_workers_and_handovers():
        for pid in _read_messages(reader):
            if pid > 0:
                _replace(server, pid)
            else:
                _retire_the_replaced(server, -pid)
        manage_workers()  # forks what is missing: a replacement asked for above

    server.manage_workers = manage_workers_and_handovers

    def woken(signum, frame):
        if os.getpid() == server.pid:  # a worker inherits the handler; only the master is woken
            server.wakeup()

    signal.signal(SIGNAL, woken)


def _read_messages(reader: int) -> list[int]:
    data = b""
    while True:
        try:
            chunk = os.read(reader, 4096)
        except BlockingIOError:
            break
        if not chunk:
            break
        data += chunk
    usable = len(data) - len(data) % _MESSAGE.size
    return [value for (value,) in _MESSAGE.iter_unpack(data[:usable])]


def _replace(server, pid: int) -> None:
    if pid in server.WORKERS and pid not in _handovers:
        _handovers[pid] = None
        server.num_workers += 1


def _retire_the_replaced(server, new_pid: int) -> None:
    for old, new in _handovers.items():
        if new is not None and new.pid == new_pid:
            if old in server.WORKERS:  # not reaped: the pid is still our child (maybe a zombie), not a stranger's
                try:
                    os.kill(old, signal.SIGTERM)
                except OSError:  # gone meanwhile: nothing to ask
                    pass
            return


def pre_fork(server, worker) -> None:
    """In the master, before a fork: a worker forked for a hand-over learns whom it replaces."""
    worker.replaces = None
    for old, new in _handovers.items():
        if new is None and old in server.WORKERS:
            _handovers[old] = worker  # gunicorn sets worker.pid in the master right after the fork
            worker.replaces = old
            return


def _send(worker, value: int) -> bool:
    if _pipe is None or os.getppid() != worker.ppid:  # no pipe (another configuration), or the master is gone
        return False
    try:
        os.write(_pipe[1], _MESSAGE.pack(value))
        os.kill(worker.ppid, SIGNAL)
    except OSError:
        return False
    return True


def announce(worker) -> None:
    """In a worker a little before its limit: ask for a replacement. Its exit will be the quick one."""
    if _send(worker, os.getpid()):
        worker.retiring = True


def ready(worker) -> None:
    """In a new worker, connections open: if it replaces one, that one may leave now."""
    if getattr(worker, "replaces", None):
        _send(worker, -os.getpid())


def child_exited(server, worker) -> None:
    """In the master (``child_exit``): a worker that announced has gone; its replacement is counted already."""
    if worker.pid in _handovers:
        del _handovers[worker.pid]
        server.num_workers -= 1
