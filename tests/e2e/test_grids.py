"""Issue 19, "screens people enjoy": the module × action grids in a browser. The role matrix has a legend; its
editor and the API-key form have a toggle per row and per column (static/js/grids.js) that ticks every box of
its row or column, or unticks them all when all are ticked; the key is created with the toggled scopes. Without
JavaScript the toggles stay hidden and the boxes work alone. Both screens fit a phone and are axe-clean, in
English and in Chinese."""

from playwright.sync_api import expect

from accounts.scoping import tenant_scope
from api.models import ApiKey
from api.views.keys_admin import KeyForm
from permissions.models import Role
from permissions.vocabulary import Action, mask_of
from tests.e2e.conftest import log_in
from tests.e2e.test_every_screen import axe_source, check_screen, csp_free_page, switch_language  # noqa: F401 - a fixture
from tests.workspace.conftest import person


def advanced_role_id() -> int:
    tenant = person("admin@acme.example").tenant
    with tenant_scope(tenant):
        return Role.objects.get(builtin=True, key="advanced").pk


def boxes(page, names):
    return [page.get_by_label(name, exact=True) for name in names]


def expect_ticked(page, names, ticked=True):
    for box in boxes(page, names):
        if ticked:
            expect(box).to_be_checked()
        else:
            expect(box).not_to_be_checked()


PRODUCTS = [f"Products: {a}" for a in ("View", "Create", "Change", "Delete", "Export", "View sensitive fields")]
CREATE = ["Products: Create", "Reports: Create", "Users: Create", "Roles: Create", "Grants: Create"]


def test_the_role_page_shows_a_legend_of_its_marks(page, live_server, demo):
    log_in(page, live_server, "admin@acme.example")
    page.goto(f"{live_server.url}/console/roles/{advanced_role_id()}/")
    legend = page.get_by_test_id("matrix-legend")
    expect(legend).to_be_visible()
    expect(legend.get_by_role("listitem")).to_contain_text(["Granted", "Not granted", "Not applicable"])
    matrix = page.get_by_test_id("role-matrix")
    expect(matrix.locator("td.cell-yes").first).to_have_text("✓Granted")  # the mark, and its words for screen readers
    expect(matrix.locator("td.cell-na").first).to_have_text("Not applicable")
    expect(matrix.get_by_role("button")).to_have_count(0)


def test_row_and_column_toggles_of_the_matrix_editor(page, live_server, demo):
    log_in(page, live_server, "admin@acme.example")
    page.goto(f"{live_server.url}/console/roles/{advanced_role_id()}/matrix/")
    expect(page.get_by_test_id("matrix-legend")).to_contain_text("Not applicable")
    row = page.get_by_role("button", name="Select all: Products")
    expect(row).to_have_attribute("aria-pressed", "false")  # the advanced role has products: view, export
    row.click()
    expect_ticked(page, PRODUCTS)
    expect(row).to_have_attribute("aria-pressed", "true")
    expect_ticked(page, ["Reports: Create", "Reports: Delete"], ticked=False)  # another row: untouched
    row.click()  # all ticked: a second click unticks them all
    expect_ticked(page, PRODUCTS, ticked=False)
    expect(row).to_have_attribute("aria-pressed", "false")

    column = page.get_by_role("button", name="Select all: Create")
    column.focus()
    page.keyboard.press("Space")  # a button: the keyboard works it too
    expect_ticked(page, CREATE)
    expect_ticked(page, ["Products: View", "Products: Change"], ticked=False)  # another column: untouched
    page.keyboard.press("Enter")
    expect_ticked(page, CREATE, ticked=False)
    expect_ticked(page, ["Reports: View", "Reports: Export"])  # the role's own cells, never touched

    page.get_by_label("Products: Delete").check()  # by hand, then the column is completed, not emptied
    page.get_by_role("button", name="Select all: Delete").click()
    expect_ticked(page, ["Products: Delete", "Reports: Delete", "Users: Delete"])
    page.get_by_role("button", name="Preview the impact").click()
    expect(page.get_by_test_id("matrix-changes")).to_contain_text("Products + Delete")
    expect(page.get_by_test_id("matrix-changes")).to_contain_text("Users + Delete")


def test_row_and_column_toggles_of_the_key_form_and_the_key_they_make(page, live_server, demo):
    admin = person("admin@acme.example")
    log_in(page, live_server, admin.email)
    page.get_by_role("link", name="API keys").click()
    page.get_by_test_id("new-key").click()
    page.get_by_label("Name", exact=True).fill("Catalogue sync")
    grid = page.get_by_test_id("scope-grid")
    expect(page.get_by_test_id("matrix-legend")).to_contain_text("Not applicable")

    products = grid.get_by_role("button", name="Select all: Products")
    products.click()
    expect_ticked(page, PRODUCTS)
    products.click()
    expect_ticked(page, PRODUCTS, ticked=False)

    export = grid.get_by_role("button", name="Select all: Export")
    export.click()
    expect_ticked(page, ["Products: Export", "Reports: Export", "Users: Export", "Audit trail: Export"])
    export.click()
    expect_ticked(page, ["Products: Export", "Reports: Export", "Users: Export", "Audit trail: Export"], ticked=False)

    grid.get_by_role("button", name="Select all: Reports").click()
    export.click()  # some export boxes are unticked: the column is ticked whole, Reports: Export stays ticked
    expect(export).to_have_attribute("aria-pressed", "true")
    page.get_by_role("button", name="Create key").click()
    expect(page.get_by_test_id("token")).to_contain_text("pck_")

    with tenant_scope(admin.tenant):
        key = ApiKey.objects.get(name="Catalogue sync")
        offered = [value.split(":") for value, _label in KeyForm(user=admin).fields["scopes"].choices]
    expected: dict[str, list[str]] = {}
    for module, action in offered:
        if module == "reports" or action == Action.EXPORT:
            expected.setdefault(module, []).append(action)
    assert key.scopes == {module: mask_of(actions) for module, actions in expected.items()}
    assert set(expected) > {"reports", "products", "users", "audit"}


def test_without_javascript_the_toggles_stay_hidden_and_the_boxes_work(browser, live_server, demo):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB", java_script_enabled=False)
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        log_in(page, live_server, "admin@acme.example")
        page.goto(f"{live_server.url}/console/roles/{advanced_role_id()}/matrix/")
        expect(page.locator("button.grid-toggle").first).to_be_hidden()
        expect(page.get_by_role("button", name="Select all: Products")).to_have_count(0)
        page.get_by_label("Products: Create").check()
        page.get_by_role("button", name="Preview the impact").click()
        expect(page.get_by_test_id("matrix-changes")).to_contain_text("Products + Create")
    finally:
        context.close()


def test_the_grids_fit_a_phone_and_are_axe_clean_in_both_languages(csp_free_page, live_server, demo, tmp_path):  # noqa: F811
    axe = axe_source()
    page = csp_free_page
    log_in(page, live_server, "admin@acme.example")
    screens = {"key_form": "/api/keys/new", "role_matrix": f"/console/roles/{advanced_role_id()}/matrix/"}
    screens["role"] = screens["role_matrix"].removesuffix("matrix/")
    problems: dict[str, list[str]] = {"overflow": [], "squeezed": [], "axe": []}
    for name, url in screens.items():
        check_screen(page, live_server, url, tmp_path / "en", name, axe, problems)
    switch_language(page, "zh-hans")
    for name, url in screens.items():
        check_screen(page, live_server, url, tmp_path / "zh", name, axe, problems)
    page.goto(f"{live_server.url}{screens['key_form']}")
    expect(page.get_by_test_id("matrix-legend")).to_contain_text("不适用")
    expect(page.get_by_role("button", name="全选：产品")).to_be_visible()
    report = "\n".join(f"{kind}: {line}" for kind, lines in problems.items() for line in lines)
    assert not report, report
