"""Module pages: sensitive values masked everywhere without view_sensitive (AZ-9: pages, exports,
search), constant queries per list page, usage recorded, custom modules, charts, My access."""

import csv
import io
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.scoping import tenant_scope
from permissions.models import Grant, Resource, UsageRecord
from permissions.sensitive import MASK
from permissions.services import grants, modules
from permissions.vocabulary import Action
from tests.querycount import assert_constant_queries
from tests.workspace.conftest import client_of, module, person, resource
from workspace import figures


def body_of(response) -> str:
    if response.streaming:
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


def sensitive_values(tenant) -> list[tuple[str, str]]:
    """Every sensitive (attribute name, value) of the demo resources, as it would be printed."""
    values = []
    with tenant_scope(tenant):
        for item in Resource.objects.select_related("module"):
            for name in item.module.sensitive_attributes:
                if name in item.attributes:
                    values.append((name, str(item.attributes[name])))
    return values


def assert_masked_csv(text: str, names: set[str], url: str) -> None:
    rows = list(csv.reader(io.StringIO(text)))
    for column, header in enumerate(rows[0] if rows else []):
        if header in names:
            assert {row[column] for row in rows[1:]} <= {MASK, ""}, (url, header)


def every_page(tenant) -> list[str]:
    pages = ["/m/products/", "/m/reports/", "/m/analytics/", "/m/products/?q=Supplier", "/m/products/?page=2"]
    pages += ["/m/products/export.csv", "/m/reports/export.csv", "/m/analytics/export.csv"]
    with tenant_scope(tenant):
        for item in Resource.objects.select_related("module"):
            pages.append(f"/m/{item.module.key}/{item.pk}/")
            pages.append(f"/m/{item.module.key}/{item.pk}/export.csv")
    return pages


@pytest.mark.parametrize("email", ["advanced1@acme.example", "basic9@acme.example", "basic7@acme.example"])
def test_az9_no_sensitive_value_in_any_page_or_export_without_view_sensitive(demo, email):
    acme = person(email).tenant
    pairs = sensitive_values(acme)
    secrets = [value for _name, value in pairs if not value.isdigit()]  # "Supplier 2", "2.1M", "13 addresses"
    names = {name for name, _value in pairs}
    client = client_of(email)
    shown = 0
    for url in every_page(acme):
        response = client.get(url)
        if response.status_code != 200:
            continue
        shown += 1
        text = body_of(response)
        for value in secrets:
            assert value not in text, (url, value)
        for name, value in pairs:  # numbers (cost prices) are checked where they would appear: by name
            assert f"<dt>{name}</dt><dd>{value}</dd>" not in text, (url, name)
        if url.endswith(".csv"):
            assert_masked_csv(text, names, url)
        if "/m/reports/" in url and url.count("/") == 4 and not url.endswith(".csv"):
            assert 'data-testid="masked-note"' in text
    assert shown > 10


def test_az9_report_table_and_its_export_mask_revenue(demo):
    acme = person("advanced1@acme.example").tenant
    report = resource(acme, "R-005")
    rows = figures.report_rows(report)
    exported = body_of(client_of("advanced1@acme.example").get(f"/m/reports/{report.pk}/export.csv"))
    table = list(csv.reader(io.StringIO(exported)))
    assert table[0] == ["Month", "Orders", "Revenue"]
    assert [r[2] for r in table[1:]] == [MASK] * 12
    assert [int(r[1]) for r in table[1:]] == [row["orders"] for row in rows]
    page = client_of("advanced1@acme.example").get(f"/m/reports/{report.pk}/").content.decode()
    assert not any(f"<td>{row['revenue']}</td>" in page for row in rows)
    assert "Revenue per month" not in page and "Orders per month" in page


def test_the_administrator_sees_sensitive_values_positive_control(demo):
    acme = person("admin@acme.example").tenant
    report = resource(acme, "R-005")
    client = client_of("admin@acme.example")
    page = client.get(f"/m/reports/{report.pk}/").content.decode()
    assert f"<dd>{report.attributes['revenue']}</dd>" in page and "Revenue per month" in page
    product = resource(acme, "P-002")
    assert product.attributes["supplier"] in body_of(client.get("/m/products/export.csv"))


def test_az9_search_never_matches_sensitive_values(demo):
    client = client_of("advanced1@acme.example")
    assert ">0 items<" in client.get("/m/products/?q=Supplier").content.decode()
    assert ">1 item<" in client.get("/m/products/?q=X-200").content.decode()


def test_charts_are_server_rendered_svg_without_script(demo):
    acme = person("admin@acme.example").tenant
    page = client_of("admin@acme.example").get(f"/m/analytics/{resource(acme, 'D-003').pk}/").content.decode()
    assert page.count("<svg") == figures.dashboard_series(resource(acme, "D-003")).__len__()
    assert "<script>" not in page.split("<main", 1)[1] and " style=" not in page


def test_list_pages_cost_constant_queries(demo):
    acme = person("admin@acme.example").tenant
    basic = person("basic1@acme.example")
    admin = person("admin@acme.example")

    def grow():
        with tenant_scope(acme):
            reports = module(acme, "reports")
            for n in range(30):
                item = modules.create_resource(
                    actor=None, module=reports, title=f"Extra {n}", attributes={"revenue": "1M"}
                )
                grants.grant(actor=admin, module=reports, resource=item, user=basic, actions=[Action.VIEW], reason="x")

    for email in ("basic1@acme.example", "admin@acme.example"):
        client = client_of(email)
        assert_constant_queries(client, "/m/reports/", grow if email.startswith("basic") else lambda: None)
    assert_constant_queries(client_of("basic1@acme.example"), "/m/reports/?page=2", lambda: None)


def test_usage_is_recorded_for_page_views_and_exports(demo):
    acme = person("basic9@acme.example").tenant
    report = resource(acme, "R-005")
    client = client_of("basic9@acme.example")
    client.get(f"/m/reports/{report.pk}/")
    body_of(client.get(f"/m/reports/{report.pk}/export.csv"))
    with tenant_scope(acme):
        used = set(UsageRecord.objects.filter(user=person("basic9@acme.example")).values_list("target_key", "action"))
    assert {(f"r{report.pk}", "view"), (f"r{report.pk}", "export")} <= used


def test_custom_modules_get_the_generic_pages_with_masking(demo):
    acme = person("admin@acme.example").tenant
    with tenant_scope(acme):
        contracts = modules.create_module(actor=None, tenant=acme, name="Contracts", sensitive_attributes=["value"])
        deal = modules.create_resource(
            actor=None, module=contracts, title="Initech frame contract", attributes={"value": "EUR 4.2M", "term": "3y"}
        )
        grants.grant(
            actor=None,
            module=contracts,
            resource=deal,
            user=person("basic1@acme.example"),
            actions=[Action.VIEW],
            reason="contract review",
            expires_at=timezone.now() + timedelta(days=3),
        )
        # A new custom module is in no role's matrix: the administrator gets it through a grant too.
        grants.grant(
            actor=None,
            module=contracts,
            user=person("admin@acme.example"),
            actions=[Action.VIEW, Action.VIEW_SENSITIVE],
            reason="module set-up",
        )
    admin_page = client_of("admin@acme.example").get("/m/contracts/").content.decode()
    assert "EUR 4.2M" in admin_page and ">Contracts<" in admin_page
    customer = client_of("basic1@acme.example")
    listing = customer.get("/m/contracts/").content.decode()
    assert "Initech frame contract" in listing and "EUR 4.2M" not in listing and MASK in listing
    assert customer.get(f"/m/contracts/{deal.pk}/").status_code == 200
    assert client_of("basic2@acme.example").get("/m/contracts/").status_code == 403
    assert client_of("basic1@acme.example").get("/m/users/").status_code == 404  # console modules are not pages here


def test_my_access_explains_paths_expiry_and_pending_requests(demo):
    acme = person("basic9@acme.example").tenant
    page = client_of("basic9@acme.example").get("/my-access/").content.decode()
    with tenant_scope(acme):
        grant = Grant.objects.get(resource__external_id="R-005")
    assert "Role Basic user" in page and "via group Umbrella Retail" not in page.split("my-grants")[0]
    assert f'data-testid="grant-{grant.pk}"' in page and f"/requests/new/?extend={grant.pk}" in page
    assert "Umbrella Retail" in page and "/accounts/security/history/" in page
    pending = client_of("basic3@acme.example").get("/my-access/").content.decode()
    assert 'data-testid="pending-requests"' in pending and "No pending requests." not in pending


def test_ask_to_extend_prefills_a_new_request(demo):
    acme = person("basic9@acme.example").tenant
    with tenant_scope(acme):
        grant = Grant.objects.get(resource__external_id="R-005")
    client = client_of("basic9@acme.example")
    page = client.get(f"/requests/new/?extend={grant.pk}").content.decode()
    assert f"Extension of grant #{grant.pk}" in page
    assert re.search(r'value="export"[^>]*checked', page) and re.search(r'value="view"[^>]*checked', page)
    response = client.post(
        "/requests/new/",
        {"extend": grant.pk, "actions": ["view", "export"], "duration_days": 14, "reason": "More time"},
    )
    assert response.status_code == 302, response.content.decode()[-3000:]
    # Someone else's grant cannot be extended: the form falls back to choosing a module.
    other = client_of("basic1@acme.example").get(f"/requests/new/?extend={grant.pk}").content.decode()
    assert "Extension of grant" not in other


@pytest.mark.parametrize("email", ["admin@acme.example", "basic7@acme.example", "basic2@acme.example"])
def test_my_access_agrees_with_engine_explain_for_every_module_and_action(demo, email):
    """The shortcut for role-only modules gives exactly the paths ``engine.explain`` gives."""
    from permissions import engine
    from permissions.models import Module
    from workspace.myaccess import module_rows, source_label

    user = person(email)
    with tenant_scope(user.tenant):
        shown = {row["module"].key: row["sources"] for row in module_rows(user)}
        expected = {}
        for mod in Module.objects.all():
            sources = {}
            for action in engine.module_actions(user, mod):
                for path in engine.explain(user, action, mod).paths:
                    sources.setdefault(source_label(path), []).append(action)
            if sources:
                expected[mod.key] = sources
    assert {key: {s["label"]: s["actions"] for s in value} for key, value in shown.items()} == expected


def test_my_access_costs_few_queries_even_for_an_administrator(demo):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_of("admin@acme.example")
    client.get("/my-access/")
    with CaptureQueriesContext(connection) as captured:
        assert client.get("/my-access/").status_code == 200
    assert len(captured.captured_queries) < 30
    page = client_of("basic7@acme.example").get("/my-access/").content.decode()
    assert "Role Basic user" in page and "Direct grant #" in page and "(expires" in page
