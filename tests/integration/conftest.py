"""A real multi-process deployment for tests: two gunicorn web processes and a Celery worker.

They share this test run's PostgreSQL database and Redis, as production processes share theirs,
so these tests need PostgreSQL (skipped on SQLite, whose test database lives in memory).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _database_url() -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def _wait_until_up(url: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited with {process.returncode}")
        try:
            requests.get(f"{url}/healthz", timeout=10)
            return
        except (requests.ConnectionError, requests.Timeout):  # not listening yet, or still booting its worker
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not start")


class Cluster:
    def __init__(self, web_urls: list[str], processes: list[subprocess.Popen], logs=None):
        self.web_urls = web_urls
        self.processes = processes
        self.logs = logs  # the folder of web-a.log, web-b.log and worker.log (each process's output)

    @property
    def a(self) -> str:
        return self.web_urls[0]

    @property
    def b(self) -> str:
        return self.web_urls[1]


def portal_env(settings, var_dir: Path, redis_url: str, *, celery: bool) -> dict:
    """The environment of a production-like portal process sharing this test run's database and secrets."""
    import base64

    from audit import keys as audit_keys
    from vault import masterkeys

    keys = masterkeys.load()
    env = {
        **os.environ,
        # The same secrets as this test process, in a var/ of their own (static files are collected there).
        "PORTCULLIS_VAR_DIR": str(var_dir),
        "SECRET_KEY": settings.SECRET_KEY,
        # Production takes the audit signing key from the environment (key custody): this run's own key.
        "AUDIT_SIGNING_KEY": base64.b64encode(audit_keys._seed(audit_keys.signing_key().private)).decode(),
        masterkeys.ENV_NAME: ",".join(f"{i}:{base64.b64encode(k).decode()}" for i, k in keys.keys.items()),
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DATABASE_URL": _database_url(),
        "REDIS_URL": redis_url,
        "CELERY_ENABLED": "true" if celery else "false",
        "PORTCULLIS_HTTPS": "false",
        "DEBUG": "false",
        "LOG_FORMAT": "json",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    if not (var_dir / "staticfiles").exists():
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
            cwd=ROOT,
            env=env,
            check=True,
            timeout=120,
        )
    return env


def start_web(env: dict, logs: Path, name: str) -> tuple[str, subprocess.Popen]:
    """One gunicorn web process (one worker, portal/gunicorn.conf.py) on a free port: (its URL, process)."""
    port = free_port()
    log = open(logs / f"{name}.log", "w")  # noqa: SIM115
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "portal/gunicorn.conf.py", "-b", f"127.0.0.1:{port}", "-w", "1"]
        + ["portal.wsgi"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    return f"http://127.0.0.1:{port}", process


def stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def require_postgres() -> None:
    # Tests that use it are marked postgres (skipped on SQLite, whose test database lives in memory).
    assert connection.vendor == "postgresql", "a test using the multi-process deployment must be marked postgres"


@pytest.fixture
def cluster(transactional_db, tmp_path, settings):
    """Start the processes; users created after this fixture get password hashes the processes can check."""
    require_postgres()
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    redis_url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/13"
    env = portal_env(settings, tmp_path / "var", redis_url, celery=True)
    processes, urls = [], []
    logs = tmp_path / "logs"
    logs.mkdir()
    try:
        for name in ("web-a", "web-b"):
            url, process = start_web(env, logs, name)
            urls.append(url)
            processes.append(process)
        log = open(logs / "worker.log", "w")  # noqa: SIM115
        processes.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "portal",
                    "worker",
                    "-P",
                    "solo",
                    "--loglevel",
                    "INFO",
                    "-n",
                    f"test-{os.getpid()}@localhost",
                ],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
        for url, process in zip(urls, processes, strict=False):
            _wait_until_up(url, process)
        yield Cluster(urls, processes, logs)
    finally:
        stop(processes)


def post_form(session: requests.Session, url: str, data: dict) -> requests.Response:
    page = session.get(url, timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    return session.post(
        url, data={"csrfmiddlewaretoken": token, **data}, headers={"Referer": url}, allow_redirects=False, timeout=10
    )


def http_login(base_url: str, user, password: str) -> requests.Session:
    """Log in through the real login form and MFA step of one web process (a real TOTP code)."""
    from tests.accounts.mfa_helpers import device_of, fresh_code, give_device

    device = device_of(user) or give_device(user)
    session = requests.Session()
    response = post_form(session, f"{base_url}/accounts/login/", {"username": user.email, "password": password})
    assert response.status_code == 302, response.text[:300]
    response = post_form(
        session, f"{base_url}/accounts/mfa/", {"device": device.persistent_id, "code": fresh_code(device), "next": "/"}
    )
    assert response.status_code == 302 and "/accounts/" not in response.headers["Location"], response.text[:300]
    return session


FC1_WITHIN = 1.0  # seconds: a change committed by one process is obeyed by every other within this (FC-1)


def obeyed_within(condition, seconds: float = FC1_WITHIN) -> float:
    """Ask ``condition()`` until it holds; fails unless it held within ``seconds`` of the call (made right
    after the change's commit). Returns the seconds it took. Another process may reuse the authorization
    version it read for AUTHZ_VERSION_MAX_AGE (0.25 s), so "at once" is not the guarantee: "within 1 s" is."""
    started = time.monotonic()
    while True:
        if condition():
            took = time.monotonic() - started
            assert took <= seconds, f"obeyed after {took:.2f} s"
            return took
        if time.monotonic() - started > seconds:
            raise AssertionError(f"not obeyed within {seconds} s")
        time.sleep(0.02)
