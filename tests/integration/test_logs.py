"""Structured logs in production (issue 8, item 6): gunicorn's access and error lines and the portal's own lines
are JSON objects, one per line, and a request is followed by its id from the access log into the app's lines
(a 404 logged by Django after the middleware has returned included)."""

import json
import time
import uuid

import pytest
import requests

pytestmark = pytest.mark.postgres  # the cluster's processes share the test database: PostgreSQL only


def lines_of(path, needle: str, at_least: int, timeout: float = 10.0) -> list[dict]:
    """The JSON lines of a process's output that mention ``needle`` (waiting for the process to flush)."""
    deadline = time.monotonic() + timeout
    while True:
        text = path.read_text(encoding="utf-8", errors="replace")
        found = [line for line in text.splitlines() if needle in line]
        if len(found) >= at_least or time.monotonic() > deadline:
            return [json.loads(line) for line in found]
        time.sleep(0.2)


def test_every_line_is_json_and_a_request_is_followed_by_its_id(cluster):
    request_id = uuid.uuid4().hex
    response = requests.get(f"{cluster.a}/no-such-page/", headers={"X-Request-ID": request_id}, timeout=10)
    assert response.status_code == 404 and response.headers["X-Request-ID"] == request_id
    mentioned = lines_of(cluster.logs / "web-a.log", request_id, at_least=2)
    access = [line for line in mentioned if line["logger"] == "gunicorn.access"]
    app = [line for line in mentioned if line["logger"] == "django.request"]
    assert len(access) == 1 and access[0]["request_id"] == request_id and '"GET /no-such-page/' in access[0]["message"]
    assert len(app) == 1 and app[0]["request_id"] == request_id and app[0]["level"] == "WARNING"
    for line in (cluster.logs / "web-a.log").read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)  # gunicorn's own start-up lines too
        assert {"time", "level", "logger", "message"} <= set(entry)
