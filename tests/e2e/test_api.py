"""The demo administrator creates an API key (shown once), uses it, and reads the API documentation page,
which runs under the portal's CSP (no inline script or style, no CDN) with no violation."""

from playwright.sync_api import expect

from tests.e2e.conftest import log_in


def test_admin_creates_a_key_and_reads_the_docs_under_the_csp(page, live_server, demo):
    violations = []
    page.on("console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None)
    log_in(page, live_server, "admin@acme.example")
    page.get_by_role("link", name="API keys").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("API keys")
    page.get_by_test_id("new-key").click()
    page.get_by_label("Name", exact=True).fill("ERP connector")
    page.get_by_label("Grants: View").check()
    page.get_by_role("button", name="Create key").click()
    token = page.get_by_test_id("token").inner_text()
    assert token.startswith("pck_")
    page.get_by_role("link", name="Back to the API keys").click()
    expect(page.get_by_test_id("keys")).to_contain_text("ERP connector")
    expect(page.get_by_test_id("keys")).not_to_contain_text(token.split("_", 3)[3])

    response = page.request.post(
        f"{live_server.url}/api/v1/check",
        headers={"Authorization": f"Bearer {token}"},
        data={"subject": 1, "action": "view", "target": "products"},
    )
    assert response.status in (200, 404)  # user 1 may be another tenant's: a 404, never data

    page.goto(f"{live_server.url}/api/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Portcullis API")
    expect(page.locator(".opblock-summary-path").first).to_be_visible()
    assert violations == []
