"""Worker recycling under the production gunicorn configuration never stalls service (issue 14).

A worker that reaches ``max_requests`` exits and the master replaces it. Without ``preload_app`` the
replacement imported Django before it could accept (about a second of CPU, several on a busy machine):
every request in that window waited. Here one worker recycles every 20 requests, so nobody else can
serve while it is replaced: the slowest request must still be far below the cost of importing the portal.
"""

from __future__ import annotations

import json
import time

import requests

from tests.portal.gunicorn_server import production_gunicorn

LIFE = 20  # requests per worker life (GUNICORN_MAX_REQUESTS, no jitter)
REQUESTS = 130


def test_production_config_recycles_a_worker_without_stalling(tmp_path):
    limits = {"GUNICORN_MAX_REQUESTS": str(LIFE), "GUNICORN_MAX_REQUESTS_JITTER": "0"}
    with production_gunicorn(tmp_path, **limits) as (port, log_path):
        url = f"http://127.0.0.1:{port}/healthz"
        # The first worker lives LIFE requests from its start: the probes above count in it.
        latencies, statuses = [], []
        for _ in range(REQUESTS):
            started = time.perf_counter()
            response = requests.get(url, timeout=30)
            latencies.append(time.perf_counter() - started)
            statuses.append(response.status_code)
    lines = [json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")]
    boots = [line for line in lines if line.get("message", "").startswith("Booting worker with pid")]
    restarts = [line for line in lines if line.get("message", "") == "Autorestarting worker after current request."]
    assert statuses == [200] * REQUESTS, statuses
    # The worker really was replaced several times during the run (each boot after the first is a recycle).
    assert len(restarts) >= REQUESTS // LIFE - 1 and len(boots) >= len(restarts) + 1, (len(boots), len(restarts))
    # The request that waited for a replacement took milliseconds, not an import of the portal.
    assert max(latencies) < 0.75, sorted(latencies)[-5:]
