"""Worker recycling under the production gunicorn configuration never stalls service (issue 14).

A worker that reaches ``max_requests`` exits and the master replaces it. Without ``preload_app`` the
replacement imported Django before it could accept (about a second of CPU, several on a busy machine):
every request in that window waited. Here one worker recycles every 20 requests, so nobody else can
serve while it is replaced: the slowest request must still be far below the cost of importing the portal.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
LIFE = 20  # requests per worker life (GUNICORN_MAX_REQUESTS, no jitter)
REQUESTS = 130


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_production_config_recycles_a_worker_without_stalling(tmp_path):
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}},
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "PORTCULLIS_VAR_DIR": str(tmp_path / "var"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",  # /healthz runs SELECT 1: no tables needed
        "CELERY_ENABLED": "false",
        "PORTCULLIS_HTTPS": "false",
        "DEBUG": "false",
        "LOG_FORMAT": "json",
        "ALLOWED_HOSTS": "127.0.0.1",
        "WEB_CONCURRENCY": "1",
        "GUNICORN_MAX_REQUESTS": str(LIFE),
        "GUNICORN_MAX_REQUESTS_JITTER": "0",
    }
    log_path = tmp_path / "gunicorn.log"
    with open(log_path, "w") as log:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-c",
                "portal/gunicorn.conf.py",
                "-b",
                f"127.0.0.1:{port}",
                "portal.wsgi",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}/healthz"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, log_path.read_text()[-2000:]
            try:
                requests.get(url, timeout=10)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.2)
        # The first worker lives LIFE requests from its start: the probes above count in it.
        latencies, statuses = [], []
        for _ in range(REQUESTS):
            started = time.perf_counter()
            response = requests.get(url, timeout=30)
            latencies.append(time.perf_counter() - started)
            statuses.append(response.status_code)
    finally:
        server.terminate()
        server.wait(timeout=20)
    lines = [json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")]
    boots = [line for line in lines if line.get("message", "").startswith("Booting worker with pid")]
    restarts = [line for line in lines if line.get("message", "") == "Autorestarting worker after current request."]
    assert statuses == [200] * REQUESTS, statuses
    # The worker really was replaced several times during the run (each boot after the first is a recycle).
    assert len(restarts) >= REQUESTS // LIFE - 1 and len(boots) >= len(restarts) + 1, (len(boots), len(restarts))
    # The request that waited for a replacement took milliseconds, not an import of the portal.
    assert max(latencies) < 0.75, sorted(latencies)[-5:]
