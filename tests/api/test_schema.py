"""OpenAPI: the schema is served and valid; the documentation page is local (no CDN) and fits our CSP."""

import re

import yaml


def test_schema_is_openapi3_and_names_every_endpoint(client):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    assert schema["openapi"].startswith("3.")
    paths = set(schema["paths"])
    for expected in (
        "/api/v1/check",
        "/api/v1/check/batch",
        "/api/v1/users/{user_id}/visible",
        "/api/v1/users",
        "/api/v1/resources/bulk",
        "/api/v1/grants/{grant_id}/revoke",
        "/api/v1/audit-events",
    ):
        assert expected in paths, expected
    assert "ApiKey" in schema["components"]["securitySchemes"]


def test_docs_page_has_no_inline_script_or_style_and_no_cdn(client):
    """The CSP (script-src/style-src 'self') applies to the docs page unchanged: nothing inline to block."""
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp and "unsafe-inline" not in csp
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline <script>"
    assert "<style" not in html and " style=" not in html
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources and all(s.startswith("/") for s in sources), sources  # same origin: no CDN
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200 and "SwaggerUIBundle" in script.content.decode()
