"""Worker recycling under the production gunicorn configuration never stalls service (issue 14).

A worker that reaches ``max_requests`` exits and the master replaces it. Without ``preload_app`` the
replacement imported Django before it could accept (about a second of CPU, several on a busy machine):
every request in that window waited. And a replacement forked only once the old worker had left
(gunicorn's way) left the other workers alone for 50-60 ms each time; the replacement is now forked
before the old worker leaves (portal/gunicorn_replacement.py). Here one worker recycles every few
requests, so nobody else can serve while it is replaced.
"""

from __future__ import annotations

import json
import re
import time

import requests

from tests.portal.gunicorn_server import production_gunicorn, workers_of

LIFE = 20  # requests per worker life (GUNICORN_MAX_REQUESTS, no jitter)
REQUESTS = 130


def test_production_config_recycles_a_worker_without_stalling(tmp_path):
    limits = {"GUNICORN_MAX_REQUESTS": str(LIFE), "GUNICORN_MAX_REQUESTS_JITTER": "0"}
    with production_gunicorn(tmp_path, **limits) as (port, log_path, _master):
        url = f"http://127.0.0.1:{port}/healthz"
        # The first worker lives LIFE requests from its start: the probes above count in it.
        latencies, statuses = [], []
        for _ in range(REQUESTS):
            started = time.perf_counter()
            response = requests.get(url, timeout=30)
            latencies.append(time.perf_counter() - started)
            statuses.append(response.status_code)
    events = _worker_events(log_path)
    boots = [pid for kind, pid in events if kind == "boot"]
    exits = [pid for kind, pid in events if kind == "exit"]
    assert statuses == [200] * REQUESTS, statuses
    # The worker really was replaced several times during the run (each boot after the first is a recycle).
    assert len(exits) >= REQUESTS // LIFE - 1 and len(boots) >= len(exits) + 1, events
    # The request that waited for a replacement took milliseconds, not an import of the portal.
    assert max(latencies) < 0.75, sorted(latencies)[-5:]


def _worker_events(log_path) -> list[tuple[str, int]]:
    """("boot", pid) and ("exit", pid) in the order the log has them, up to the master's shutdown."""
    events = []
    for line in log_path.read_text().splitlines():
        message = json.loads(line).get("message", "") if line.startswith("{") else ""
        if message == "Handling signal: term":
            break
        if match := re.fullmatch(r"Booting worker with pid: (\d+)", message):
            events.append(("boot", int(match[1])))
        elif match := re.fullmatch(r"Worker exiting \(pid: (\d+)\)", message):
            events.append(("exit", int(match[1])))
    return events


def test_a_retiring_worker_is_replaced_before_it_leaves(tmp_path):
    """One configured worker: at every recycle its replacement is up before it exits, and the count of
    workers goes back to one (the master does not fork another after the exit, nor keep the extra)."""
    # The replacement is asked for 50 requests before the limit (gunicorn_replacement.notice): the old worker
    # serves those 50 sequential requests while the master forks, so the order holds on a loaded machine too.
    life, total = 200, 720
    limits = {"GUNICORN_MAX_REQUESTS": str(life), "GUNICORN_MAX_REQUESTS_JITTER": "0"}
    with production_gunicorn(tmp_path, **limits) as (port, log_path, master):
        url = f"http://127.0.0.1:{port}/healthz"
        statuses, most_workers = [], 0
        for _ in range(total):
            statuses.append(requests.get(url, timeout=30).status_code)
            most_workers = max(most_workers, len(workers_of(master)))
        time.sleep(0.5)  # the last retiring worker's lines reach the log
        events = _worker_events(log_path)
    log = log_path.read_text()
    assert statuses == [200] * total
    # each retiring worker wrote its hand-over and each replacement took it (portal/warmup.py): no step failed
    assert "hand-over skipped" not in log and "warm-up skipped" not in log, log[-2000:]
    alive, exits = set(), 0
    for kind, pid in events:
        if kind == "boot":
            alive.add(pid)
            assert len(alive) <= 2, events  # one configured, at most one forked ahead
        else:
            assert alive - {pid}, f"worker {pid} left before its replacement was up: {events}"
            alive.discard(pid)
            assert len(alive) == 1, events  # and the extra is counted back: nothing else was forked
            exits += 1
    assert exits >= 3, events  # the run really recycled (life 200 within 720 requests, the probes included)
    assert most_workers <= 2
