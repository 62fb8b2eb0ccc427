"""The check API's lean path answers exactly like the whole middleware stack, with the same protections."""

import pytest
from django.test import Client

from api.fastpath import takes_fast_path
from tests.api.conftest import issue

JSON = "application/json"


def test_fast_and_full_paths_answer_alike(acme_admin, acme_basic):
    _key, token = issue(acme_admin)
    fast = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    full = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    full.cookies["portcullis_language"] = "en"  # any cookie sends the request through the whole stack
    for body in (
        {"subject": acme_basic.pk, "action": "view", "target": "products"},
        {"subject": acme_basic.pk, "action": "export", "target": "reports"},
        {"subject": 10**9, "action": "view", "target": "products"},
        {"subject": acme_basic.pk, "action": "fly", "target": "products"},
    ):
        a = fast.post("/api/v1/check", body, content_type=JSON)
        b = full.post("/api/v1/check", body, content_type=JSON)
        assert (a.status_code, _without_request_id(a.json())) == (b.status_code, _without_request_id(b.json()))
        assert a["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"  # the fast path
        assert b["Content-Security-Policy"] != a["Content-Security-Policy"]  # the whole stack (django-csp)
        assert "no-store" in a["Cache-Control"] and a["X-Frame-Options"] == "DENY"
        assert a["X-Content-Type-Options"] == "nosniff" and a["X-Request-ID"]


def test_fast_path_refuses_what_the_full_path_refuses(acme_admin, acme_basic):
    assert (
        Client(HTTP_AUTHORIZATION="Bearer pck_1_0123456789ab_nope")
        .post("/api/v1/check", {}, content_type=JSON)
        .status_code
        == 401
    )
    _key, token = issue(acme_admin, scopes={"users": ["view"]})  # no grants: view
    response = Client(HTTP_AUTHORIZATION=f"Bearer {token}").post(
        "/api/v1/check", {"subject": acme_basic.pk, "action": "view", "target": "products"}, content_type=JSON
    )
    assert response.status_code == 403


def test_fast_path_still_checks_the_host(acme_admin):
    _key, token = issue(acme_admin)
    response = Client(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_HOST="evil.example").post(
        "/api/v1/check", {}, content_type=JSON
    )
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("method", "path", "headers", "expected"),
    [
        ("POST", "/api/v1/check", {"HTTP_AUTHORIZATION": "Bearer x"}, True),
        ("POST", "/api/v1/check/batch", {"HTTP_AUTHORIZATION": "Bearer x"}, True),
        ("POST", "/api/v1/check", {"HTTP_AUTHORIZATION": "Bearer x", "HTTP_COOKIE": "a=b"}, False),
        ("POST", "/api/v1/check", {}, False),
        ("GET", "/api/v1/check", {"HTTP_AUTHORIZATION": "Bearer x"}, False),
        ("POST", "/api/v1/users", {"HTTP_AUTHORIZATION": "Bearer x"}, False),
    ],
)
def test_only_bearer_checks_without_cookies_take_the_fast_path(rf, method, path, headers, expected):
    request = rf.generic(method, path, **headers)
    assert takes_fast_path(request) is expected


def _without_request_id(body):
    """A problem's request id is the request's own (two requests, two ids)."""
    return {k: v for k, v in body.items() if k != "request_id"} if isinstance(body, dict) else body
