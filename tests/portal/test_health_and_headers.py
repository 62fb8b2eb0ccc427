import pytest


def test_healthz_reports_database(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["checks"]["database"] == "ok"
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def test_healthz_is_get_only(client, db):
    assert client.post("/healthz").status_code == 405


def test_dp4_authenticated_pages_are_not_stored(admin_client_acme):
    """DP-4: authenticated responses carry Cache-Control: no-store."""
    response = admin_client_acme.get("/")
    assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        ("Referrer-Policy", "same-origin"),
    ],
)
def test_security_headers(client, db, header, expected):
    assert client.get("/accounts/login/")[header] == expected


def test_csp_forbids_inline_scripts_and_framing(client, db):
    csp = client.get("/accounts/login/")["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp


def test_request_id_is_echoed_or_generated(client, db):
    assert len(client.get("/healthz")["X-Request-ID"]) == 32
    assert client.get("/healthz", HTTP_X_REQUEST_ID="abc12345-req")["X-Request-ID"] == "abc12345-req"
    assert client.get("/healthz", HTTP_X_REQUEST_ID="bad id\n")["X-Request-ID"] != "bad id\n"


def test_unknown_page_is_a_plain_404(admin_client_acme):
    response = admin_client_acme.get("/no-such-page/")
    assert response.status_code == 404
