"""A real gunicorn master with the production configuration (portal/gunicorn.conf.py), for the tests of its
workers: on a free port, on a SQLite file of the test (``/healthz`` runs ``SELECT 1``: no tables needed)."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def production_gunicorn(tmp_path: Path, **extra_env: str):
    """Yields (port, log path, master's pid) once ``/healthz`` answers; stops the master after. ``extra_env``
    adds to the environment (one worker unless WEB_CONCURRENCY says otherwise)."""
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}},
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "PORTCULLIS_VAR_DIR": str(tmp_path / "var"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "CELERY_ENABLED": "false",
        "PORTCULLIS_HTTPS": "false",
        "DEBUG": "false",
        "LOG_FORMAT": "json",
        "ALLOWED_HOSTS": "127.0.0.1",
        "WEB_CONCURRENCY": "1",
        **extra_env,
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
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, log_path.read_text()[-2000:]
            try:
                requests.get(f"http://127.0.0.1:{port}/healthz", timeout=10)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.2)
        yield port, log_path, server.pid
    finally:
        server.terminate()
        server.wait(timeout=20)


def workers_of(master_pid: int) -> list[int]:
    """The pids of the master's live children (its workers), read from /proc."""
    children = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # exited meanwhile
            continue
        fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) ": state, ppid, ...
        if int(fields[1]) == master_pid and fields[0] != "Z":
            children.append(int(entry.name))
    return children
