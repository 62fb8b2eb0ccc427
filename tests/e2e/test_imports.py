"""Import in the browser: an administrator uploads the Salesforce sample files with their mapping, reads the
preview (each change by file and line, who gains what; nothing changed yet), applies it, downloads the
Salesforce export and finds the people in the users list; a file with a bad row shows the row and offers no
apply button. The preview at 390 px has no overflow and no serious axe-core violation."""

import pytest
from playwright.sync_api import expect

from accounts.models import User
from accounts.scoping import dangerously_unscoped
from tests.e2e.conftest import log_in
from tests.e2e.test_every_screen import AXE_JS, OVERFLOW_JS, axe_source
from tests.imports.kit import SAMPLES

FILES = ["salesforce-users.csv", "salesforce-roles.csv", "salesforce-permission-set-assignments.csv"]


@pytest.fixture
def csp_free_page(browser):
    """A page whose context lets the test inject axe-core (the portal's CSP forbids inline scripts)."""
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="en-GB", bypass_csp=True)
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def _acme_has(email: str) -> bool:
    with dangerously_unscoped():  # test check: look the account up wherever it is
        return User.objects.filter(email=email, tenant__slug="acme").exists()


def test_upload_preview_apply(csp_free_page, live_server, demo):
    page = csp_free_page
    log_in(page, live_server, "admin@acme.example")
    page.get_by_role("navigation").get_by_role("link", name="Import and export").click()
    page.get_by_label("Format", exact=True).select_option("salesforce")
    page.get_by_label("Files", exact=True).set_input_files([str(SAMPLES / name) for name in FILES])
    page.get_by_label("Mapping (optional)").fill((SAMPLES / "salesforce-mapping.txt").read_text())
    page.get_by_role("button", name="Preview the import").click()

    report = page.get_by_test_id("import-report")
    expect(report).to_contain_text("Preview: nothing has changed yet")
    operations = page.get_by_test_id("operations")
    expect(operations).to_contain_text("Invite li.wei@acme.example as Basic user")
    expect(operations).to_contain_text("Grant tom.baker@acme.example View, Export on Reports")
    expect(page.get_by_test_id("effects")).to_contain_text("tom.baker@acme.example")
    assert not _acme_has("li.wei@acme.example")

    page.set_viewport_size({"width": 390, "height": 900})
    assert page.evaluate(OVERFLOW_JS) <= 1
    page.add_script_tag(content=axe_source())
    assert page.evaluate(AXE_JS) == []
    page.set_viewport_size({"width": 1366, "height": 900})

    page.get_by_role("button", name="Apply the import").click()
    expect(page.locator(".message-success")).to_contain_text(
        "Imported: 3 users, 0 roles, 2 organisations, 3 grants (1 waiting for approval)."
    )
    assert _acme_has("li.wei@acme.example") and _acme_has("tom.baker@acme.example")

    page.get_by_label("Export format").select_option("salesforce")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download").click()
    exported = download.value.path().read_text(encoding="utf-8-sig")
    assert exported.startswith("Username,FirstName,LastName,Email,IsActive,Profile.Name,UserRole.Name")
    assert "tom.baker@acme.example,Tom,Baker,tom.baker@acme.example,true,Basic user,Western Sales Team" in exported
    page.get_by_role("navigation").get_by_role("link", name="Users").click()
    page.get_by_label("Name or email").fill("tom.baker")
    page.get_by_label("Name or email").press("Enter")
    expect(page.locator("main")).to_contain_text("tom.baker@acme.example")


def test_a_bad_row_is_named_and_nothing_can_be_applied(page, live_server, demo, tmp_path):
    bad = tmp_path / "people.csv"
    bad.write_text("record,email,role\nuser,fine@acme.example,Basic user\nuser,not-an-address,Basic user\n")
    log_in(page, live_server, "admin@acme.example")
    page.goto(f"{live_server.url}/console/import/")
    page.get_by_label("Format", exact=True).select_option("portcullis")
    page.get_by_label("Files", exact=True).set_input_files(str(bad))
    page.get_by_role("button", name="Preview the import").click()
    problems = page.get_by_test_id("problems")
    expect(problems).to_contain_text("people.csv")
    expect(problems.locator("tbody tr")).to_have_count(1)
    expect(problems.locator("tbody tr td").nth(1)).to_have_text("3")
    expect(problems).to_contain_text("“not-an-address” is not an e-mail address.")
    expect(page.get_by_role("button", name="Apply the import")).to_have_count(0)
    assert not _acme_has("fine@acme.example")
