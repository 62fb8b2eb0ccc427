"""Browser stories of the customers' workspace: products (list, search, detail), reports with charts and
the CSV export (only for holders of export), analytics dashboards, sensitive values masked or shown,
"My access", asking for access and withdrawing, and a denial whose reason the requester reads."""

import csv
import io
from pathlib import Path

from playwright.sync_api import expect

from tests.e2e.conftest import log_in, log_out
from tests.workspace.conftest import person, resource

MASK = "••••"


def open_module(page, name):
    page.get_by_role("navigation").get_by_role("link", name=name, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(name)


def test_a_customer_searches_the_products_and_reads_one_with_its_cost_masked(page, live_server, demo):
    log_in(page, live_server, "basic1@acme.example")
    open_module(page, "Products")
    products = page.get_by_test_id("resource-list")
    # The 12 catalogue products and the demo organisations' 3 + 3 (the Basic role views every product).
    expect(page.get_by_test_id("result-count")).to_have_text("18 items")
    expect(page.get_by_test_id("export-button")).to_have_count(0)  # a basic user holds view only
    expect(products).not_to_contain_text("Supplier 1")  # sensitive values masked on the cards too

    page.get_by_label("Search").fill("switch")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_test_id("result-count")).to_have_text("2 items")
    expect(products).to_contain_text("S-10 switch")
    expect(products).to_contain_text("S-48 switch")
    expect(products).not_to_contain_text("X-200 router")

    products.get_by_role("link", name="S-48 switch").click()
    expect(page.get_by_test_id("resource-title")).to_have_text("S-48 switch")
    facts = page.get_by_test_id("attributes")
    expect(facts.locator("dt", has_text="SKU").locator("xpath=following-sibling::dd[1]")).to_have_text("P-004")
    expect(facts.locator("dt", has_text="List price").locator("xpath=following-sibling::dd[1]")).to_have_text("400")
    expect(facts.locator("dt", has_text="Cost price").locator("xpath=following-sibling::dd[1]")).to_have_text(MASK)
    expect(facts.locator("dt", has_text="Supplier").locator("xpath=following-sibling::dd[1]")).to_have_text(MASK)
    expect(page.get_by_test_id("export-button")).to_have_count(0)
    expect(page.get_by_role("link", name="Request export")).to_be_visible()
    expect(page.get_by_role("link", name="Request sensitive fields")).to_be_visible()


def test_the_administrator_reads_the_sensitive_values_and_both_charts(page, live_server, demo):
    log_in(page, live_server, "admin@acme.example")
    open_module(page, "Products")
    page.get_by_test_id("resource-list").get_by_role("link", name="S-48 switch").click()
    facts = page.get_by_test_id("attributes")
    expect(facts.locator("dt", has_text="Cost price").locator("xpath=following-sibling::dd[1]")).to_have_text("240")
    expect(facts.locator("dt", has_text="Supplier").locator("xpath=following-sibling::dd[1]")).to_have_text(
        "Supplier 0"
    )
    expect(page.get_by_role("link", name="Request sensitive fields")).to_have_count(0)

    open_module(page, "Reports")
    page.get_by_test_id("resource-list").get_by_role("link", name="Q1 revenue").click()
    expect(page.get_by_role("img", name="Orders per month")).to_be_visible()
    expect(page.get_by_role("img", name="Revenue per month")).to_be_visible()
    expect(page.get_by_test_id("masked-note")).to_have_count(0)
    expect(page.get_by_test_id("report-table")).not_to_contain_text(MASK)


def test_an_advanced_user_reads_a_report_chart_and_exports_it_with_the_revenue_masked(page, live_server, demo):
    log_in(page, live_server, "advanced1@acme.example")
    open_module(page, "Reports")
    expect(page.get_by_test_id("export-button")).to_be_visible()  # module-wide export
    page.get_by_test_id("resource-list").get_by_role("link", name="Q1 revenue").click()
    expect(page.get_by_test_id("resource-title")).to_have_text("Q1 revenue")
    expect(page.get_by_role("img", name="Orders per month")).to_be_visible()
    expect(page.get_by_role("img", name="Revenue per month")).to_have_count(0)  # revenue is sensitive
    expect(page.get_by_test_id("masked-note")).to_be_visible()
    expect(page.get_by_test_id("report-table").locator("tbody tr")).to_have_count(12)

    with page.expect_download() as info:
        page.get_by_test_id("export-button").click()
    download = info.value
    acme = person("advanced1@acme.example").tenant
    assert download.suggested_filename == f"reports-{resource(acme, 'R-001').pk}.csv"
    rows = list(csv.reader(io.StringIO(Path(download.path()).read_text(encoding="utf-8"))))
    assert rows[0] == ["Month", "Orders", "Revenue"]
    assert len(rows) == 13 and {row[2] for row in rows[1:]} == {MASK}


def test_a_basic_customer_gets_no_export_button_and_is_refused_the_export_addresses(page, live_server, demo):
    acme = person("basic1@acme.example").tenant
    report = resource(acme, "R-003")  # Q3 revenue: view only, through the customer's company
    log_in(page, live_server, "basic1@acme.example")
    open_module(page, "Reports")
    expect(page.locator("main")).to_contain_text("You see only the items you were given access to.")
    expect(page.get_by_test_id("export-button")).to_have_count(0)
    page.get_by_test_id("resource-list").get_by_role("link", name="Q3 revenue").click()
    expect(page.get_by_test_id("report-table")).to_be_visible()
    expect(page.get_by_test_id("export-button")).to_have_count(0)
    expect(page.get_by_role("link", name="Request export")).to_be_visible()

    assert page.request.get(f"{live_server.url}/m/reports/export.csv").status == 403
    assert page.request.get(f"{live_server.url}/m/products/export.csv").status == 403
    refused = page.request.get(f"{live_server.url}/m/reports/{report.pk}/export.csv")
    assert refused.status == 404 and "Q3 revenue" not in refused.text()


def test_a_customer_opens_an_analytics_dashboard_with_its_charts(page, live_server, demo):
    log_in(page, live_server, "basic2@acme.example")
    open_module(page, "Analytics")
    dashboards = page.get_by_test_id("resource-list")
    expect(page.get_by_test_id("result-count")).to_have_text("12 items")
    row = dashboards.locator("tr", has_text="Sales pipeline")
    expect(row).to_contain_text(MASK)  # customer_emails is sensitive
    expect(row).not_to_contain_text("13 addresses")
    row.get_by_role("link", name="Sales pipeline").click()
    expect(page.get_by_test_id("resource-title")).to_have_text("Sales pipeline")
    charts = page.get_by_test_id("charts")
    expect(charts.get_by_role("img")).to_have_count(5)  # widgets = 5
    expect(charts.get_by_role("img", name="Visits")).to_be_visible()


def test_a_customer_asks_for_access_from_my_access_then_withdraws(page, live_server, demo):
    log_in(page, live_server, "basic1@acme.example")
    page.get_by_role("navigation").get_by_role("link", name="My access").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My access")
    products = page.get_by_test_id("module-access").locator("tr", has_text="Products")
    expect(products).to_contain_text("Role Basic user")
    expect(products).to_contain_text("View")
    expect(page.get_by_test_id("pending-requests")).to_contain_text("No pending requests.")

    page.get_by_role("link", name="Request access").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Request access")
    page.get_by_label("Module").select_option(label="Products")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_test_id("request-module-name")).to_have_text("Products")
    page.get_by_label("Reason").fill("Just checking")
    expect(page.get_by_label("View", exact=True)).not_to_be_checked()  # a held right is never pre-ticked (issue 19)
    page.get_by_label("View", exact=True).check()
    page.get_by_role("button", name="Send request").click()  # View is already held
    expect(page.get_by_test_id("form-error")).to_have_text("You already hold these permissions.")

    page.get_by_label("View", exact=True).uncheck()
    page.get_by_label("Export").check()
    page.get_by_label("Reason").fill("Price list for our buyers")
    page.get_by_role("button", name="Send request").click()
    expect(page.get_by_test_id("request-status")).to_have_text("Pending")
    expect(page.get_by_test_id("request-facts")).to_contain_text("Price list for our buyers")
    page.get_by_role("button", name="Withdraw request").click()
    expect(page.get_by_test_id("confirm-consequences")).to_contain_text("cannot be reopened")
    page.get_by_test_id("confirm-button").click()
    expect(page.locator(".message-success")).to_have_text("Request withdrawn.")
    expect(page.get_by_test_id("request-status")).to_have_text("Cancelled")
    expect(page.get_by_role("button", name="Withdraw request")).to_have_count(0)

    page.get_by_role("navigation").get_by_role("link", name="My access").click()
    page.get_by_role("main").get_by_role("link", name="My requests").click()
    row = page.get_by_test_id("my-requests").locator("tr", has_text="Export")
    expect(row).to_contain_text("Products")
    expect(row).to_contain_text("Cancelled")


def test_an_administrator_denies_a_request_and_the_requester_reads_why(page, live_server, demo):
    reason = "Web traffic figures are shared by your account manager"
    log_in(page, live_server, "admin@acme.example")
    page.get_by_role("navigation").get_by_role("link", name="Access requests").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Access requests to decide")
    row = page.get_by_test_id("queue-row").filter(has_text="basic4@acme.example")
    expect(row).to_contain_text("Web traffic")
    row.get_by_role("link", name="Review").click()
    page.get_by_test_id("deny-form").get_by_role("button", name="Deny").click()  # a reason is required
    expect(page.get_by_label("Reason for the denial")).to_be_visible()
    expect(page.get_by_test_id("request-status")).to_have_text("Pending")
    page.get_by_label("Reason for the denial").fill(reason)
    page.get_by_test_id("deny-form").get_by_role("button", name="Deny").click()
    expect(page.locator(".message-success")).to_have_text("Denied; the requester was told why.")
    expect(page.get_by_test_id("queue-row").filter(has_text="basic4@acme.example")).to_have_count(0)
    log_out(page)

    log_in(page, live_server, "basic4@acme.example")
    page.get_by_role("navigation").get_by_role("link", name="My access").click()
    notices = page.get_by_test_id("notices")
    expect(notices).to_contain_text(f"was denied: {reason}")
    notices.get_by_role("link", name="was denied").click()
    expect(page.get_by_test_id("request-status")).to_have_text("Denied")
    facts = page.get_by_test_id("request-facts")
    expect(facts).to_contain_text(reason)
    expect(facts).to_contain_text("admin@acme.example")
    expect(page.get_by_role("button", name="Withdraw request")).to_have_count(0)
    expect(page.get_by_test_id("approve-form")).to_have_count(0)

    page.get_by_role("navigation").get_by_role("link", name="My access").click()
    page.get_by_role("button", name="Mark all as read").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My access")
    expect(page.get_by_test_id("notices")).to_have_count(0)
