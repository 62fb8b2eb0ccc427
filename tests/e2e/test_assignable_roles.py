"""The roles organisations may assign, in the browser (issue 16): the demo's administrator opens the list from
Organisations, removes a role and adds it back (each change in the audit trail); the screen has labelled
fields and no serious axe violation, and does not overflow at 390 px, in English and in Chinese."""

from playwright.sync_api import expect

from accounts.scoping import tenant_scope
from audit.models import AuditEvent
from tests.e2e.conftest import log_in
from tests.e2e.test_every_screen import axe_source, check_screen, csp_free_page, switch_language  # noqa: F401 - a fixture
from tests.workspace.conftest import person

URL = "/console/organisations/assignable-roles/"


def test_an_administrator_removes_and_adds_a_role_organisations_may_assign(page, live_server, demo):
    log_in(page, live_server, "admin@acme.example")
    page.get_by_role("navigation").get_by_role("link", name="Organisations", exact=True).click()
    page.get_by_role("link", name="Roles organisations may assign").click()
    listed = page.get_by_test_id("assignable-roles")
    expect(listed).to_contain_text("Basic user")
    expect(listed).to_contain_text("Advanced user")
    listed.get_by_role("button", name="Remove Advanced user").click()
    expect(page.locator(".message-success")).to_contain_text(
        "Organisations may no longer assign the role Advanced user."
    )
    expect(page.get_by_test_id("assignable-roles")).not_to_contain_text("Advanced user")
    form = page.get_by_test_id("add-assignable-role")
    expect(form.get_by_label("Role").locator("option", has_text="Administrator")).to_have_count(0)  # console rights
    form.get_by_label("Role").select_option(label="Advanced user")
    form.get_by_role("button", name="Add to the list").click()
    expect(page.locator(".message-success")).to_contain_text("Organisations may now assign the role Advanced user.")
    expect(page.get_by_test_id("assignable-roles")).to_contain_text("Advanced user")
    with tenant_scope(person("admin@acme.example").tenant):
        changes = AuditEvent.objects.filter(event_type="role.organisation_assignable_changed")
        assert [e.after["organisation_assignable"] for e in changes.order_by("id")] == [False, True]


def test_the_screen_is_labelled_and_fits_a_phone_in_both_languages(csp_free_page, live_server, demo, tmp_path):  # noqa: F811
    axe = axe_source()
    page = csp_free_page
    log_in(page, live_server, "admin@acme.example")
    page.goto(f"{live_server.url}{URL}")
    page.get_by_role("button", name="Remove Advanced user").click()  # so that the page shows its form too
    expect(page.get_by_test_id("add-assignable-role")).to_be_visible()
    problems: dict[str, list[str]] = {"overflow": [], "squeezed": [], "axe": []}
    check_screen(page, live_server, URL, tmp_path / "en", "assignable_roles", axe, problems)
    expect(page.get_by_role("heading", level=1)).to_have_text("Roles organisations may assign")
    switch_language(page, "zh-hans")
    check_screen(page, live_server, URL, tmp_path / "zh", "assignable_roles", axe, problems)
    expect(page.get_by_role("heading", level=1)).to_have_text("组织可分配的角色")
    expect(page.get_by_test_id("add-assignable-role").get_by_role("button")).to_have_text("加入列表")
    report = "\n".join(f"{kind}: {line}" for kind, lines in problems.items() for line in lines)
    assert not report, report
