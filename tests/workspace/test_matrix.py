"""Every module page, export and button obeys the engine for each demo role: role × page → status and
visible buttons (the demo data: acme's administrator, an advanced user, customers of Initech and
Umbrella Retail with group grants, a customer with a product export grant, a customer with nothing)."""

import pytest

from permissions.models import BuiltinRole
from tests.factories import UserFactory
from tests.workspace.conftest import client_of, person, resource

PAGES = {
    "products": "/m/products/",
    "reports": "/m/reports/",
    "analytics": "/m/analytics/",
    "products.csv": "/m/products/export.csv",
    "reports.csv": "/m/reports/export.csv",
    "analytics.csv": "/m/analytics/export.csv",
    "P-001": "/m/products/{P-001}/",
    "R-001": "/m/reports/{R-001}/",
    "R-003": "/m/reports/{R-003}/",
    "R-005": "/m/reports/{R-005}/",
    "D-001": "/m/analytics/{D-001}/",
    "P-001.csv": "/m/products/{P-001}/export.csv",
    "R-003.csv": "/m/reports/{R-003}/export.csv",
    "R-005.csv": "/m/reports/{R-005}/export.csv",
}
ALL_200 = dict.fromkeys(PAGES, 200)
# persona → expected status per page, and the pages that show an export button
MATRIX = {
    "admin@acme.example": (ALL_200, {"products", "reports", "analytics", "P-001", "R-001", "R-003", "R-005", "D-001"}),
    "advanced1@acme.example": (
        ALL_200,
        {"products", "reports", "analytics", "P-001", "R-001", "R-003", "R-005", "D-001"},
    ),
    # Initech: products (role) and report R-003 (group grant, view only); every demo basic user also holds
    # analytics: view from a long-standing grant (the reviews demo's usage history).
    "basic1@acme.example": (
        {
            **dict.fromkeys(["products", "reports", "P-001", "R-003", "analytics", "D-001"], 200),
            **dict.fromkeys(["products.csv", "reports.csv", "analytics.csv"], 403),
            **dict.fromkeys(["R-001", "R-005", "P-001.csv", "R-003.csv", "R-005.csv"], 404),
        },
        set(),
    ),
    # Umbrella Retail: report R-005 with view and export (group grant); basic7 also exports products.
    "basic9@acme.example": (
        {
            **dict.fromkeys(["products", "reports", "P-001", "R-005", "reports.csv", "R-005.csv"], 200),
            **dict.fromkeys(["analytics", "D-001"], 200),
            **dict.fromkeys(["products.csv", "analytics.csv"], 403),
            **dict.fromkeys(["R-001", "R-003", "P-001.csv", "R-003.csv"], 404),
        },
        {"reports", "R-005"},
    ),
    "basic7@acme.example": (
        {
            **dict.fromkeys(["products", "reports", "P-001", "R-005", "reports.csv", "R-005.csv"], 200),
            **dict.fromkeys(["products.csv", "P-001.csv", "analytics", "D-001"], 200),
            **dict.fromkeys(["analytics.csv"], 403),
            **dict.fromkeys(["R-001", "R-003", "R-003.csv"], 404),
        },
        {"products", "reports", "P-001", "R-005"},
    ),
    # A new customer of no company: products only.
    "new@acme.example": (
        {
            **dict.fromkeys(["products", "P-001"], 200),
            **dict.fromkeys(["reports", "analytics", "products.csv", "reports.csv", "analytics.csv"], 403),
            **dict.fromkeys(["R-001", "R-003", "R-005", "D-001", "P-001.csv", "R-003.csv", "R-005.csv"], 404),
        },
        set(),
    ),
}


def urls(tenant) -> dict[str, str]:
    codes = ["P-001", "R-001", "R-003", "R-005", "D-001"]
    ids = {code: resource(tenant, code).pk for code in codes}
    out = {}
    for name, url in PAGES.items():
        for code, pk in ids.items():
            url = url.replace("{" + code + "}", str(pk))
        out[name] = url
    return out


@pytest.mark.parametrize("email", list(MATRIX))
def test_role_page_matrix(demo, email):
    acme = person("admin@acme.example").tenant
    if email == "new@acme.example":
        UserFactory(tenant=acme, email=email, role_key=BuiltinRole.BASIC, password="portcullis-demo")
    expected, export_buttons = MATRIX[email]
    client = client_of(email)
    seen = {}
    for name, url in urls(acme).items():
        response = client.get(url)
        seen[name] = response.status_code
        if response.status_code != 200 or response.streaming:
            if response.status_code in (403, 404) and not name.endswith(".csv"):
                # "You don't have access" offers to ask for it, and never shows the item's title.
                body = response.content.decode()
                assert 'data-testid="request-access"' in body, (email, name)
            continue
        body = response.content.decode()
        assert ('data-testid="export-button"' in body) == (name in export_buttons), (email, name)
        if name.startswith(("P-", "R-", "D-")) and name not in export_buttons:
            assert 'data-testid="request-more"' in body, (email, name)  # ask for export instead
    assert seen == expected


def test_the_not_visible_page_does_not_leak_the_title(demo):
    acme = person("admin@acme.example").tenant
    hidden = resource(acme, "R-001")
    response = client_of("basic1@acme.example").get(f"/m/reports/{hidden.pk}/")
    body = response.content.decode()
    assert response.status_code == 404 and hidden.title not in body
    assert f"/requests/new/?module=reports&amp;resource={hidden.pk}&amp;actions=view" in body


def test_navigation_shows_only_the_modules_one_may_view(demo):
    def menu(email):
        page = client_of(email).get("/").content.decode()
        body = page.split('data-testid="main-nav"', 1)[1].split("</nav>", 1)[0]  # the menu, not the home's lists
        return {
            name for name in ("Products", "Reports", "Analytics", "Access requests", "My access") if f">{name}<" in body
        }

    acme = person("admin@acme.example").tenant
    UserFactory(tenant=acme, email="new@acme.example", role_key=BuiltinRole.BASIC, password="portcullis-demo")
    assert menu("admin@acme.example") == {"Products", "Reports", "Analytics", "Access requests", "My access"}
    assert menu("basic1@acme.example") == {"Products", "Reports", "Analytics", "My access"}  # demo grant
    assert menu("basic2@acme.example") == {"Products", "Reports", "Analytics", "My access"}  # D-001 grant
    assert menu("new@acme.example") == {"Products", "My access"}
