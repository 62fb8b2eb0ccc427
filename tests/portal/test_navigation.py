"""Issue 19, item 2: the menu is grouped (Workspace, My account, Administration, Governance), exactly one entry
is current on any page, and small screens get a menu button (the project's script, no inline script: CSP)."""

import re
from pathlib import Path

import pytest
from django.test import Client

from portal.navigation import current_url
from tests.conftest import login
from tests.urlwalk import every_url

pytestmark = pytest.mark.django_db

STATIC = Path(__file__).resolve().parents[2] / "static"


def menu(html: str) -> dict[str, list[str]]:
    """{group title: [entry labels]} of the page's menu."""
    nav = html.split('data-testid="main-nav"', 1)[1].split("</nav>", 1)[0]
    groups = {}
    for title, body in re.findall(r'class="nav-group-title"[^>]*>([^<]+)</p>\s*<ul[^>]*>(.*?)</ul>', nav, re.S):
        groups[title] = re.findall(r"<a [^>]*>([^<]+)</a>", body)
    return groups


def current_entries(html: str) -> list[str]:
    return re.findall(r'<a href="([^"]+)" aria-current="page"', html)


def test_an_administrators_menu_is_grouped(admin_client_acme):
    groups = menu(admin_client_acme.get("/").content.decode())
    assert list(groups) == ["Workspace", "My account", "Administration", "Governance"]
    assert groups["Workspace"][0] == "Home"
    assert {"My access", "My requests", "Security"} <= set(groups["My account"])
    assert {"Users", "Roles", "Groups", "Modules and resources", "Webhooks", "API keys"} <= set(
        groups["Administration"]
    )
    assert {"Pending approvals", "Access requests", "Access reviews", "Audit log"} <= set(groups["Governance"])


def test_a_customers_menu_has_no_administration(acme_basic):
    groups = menu(login(Client(), acme_basic).get("/").content.decode())
    assert list(groups) == ["Workspace", "My account"]
    assert "Products" in groups["Workspace"]


def test_the_menu_is_in_chinese_for_a_chinese_reader(admin_client_acme):
    admin_client_acme.post("/accounts/language/", {"language": "zh-hans", "next": "/"})
    groups = menu(admin_client_acme.get("/").content.decode())
    assert "Workspace" not in groups and "Administration" not in groups
    assert len(groups) == 4


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/", "/"),
        ("/console/webhooks/3/", "/console/webhooks/"),  # not also an entry at /console/
        ("/requests/queue/", "/requests/queue/"),  # the queue, not My requests at /requests/
        ("/requests/12/", "/requests/"),
        ("/accounts/security/history/", "/accounts/security/"),
        ("/nowhere/", None),
    ],
)
def test_the_current_entry_is_the_longest_matching_one(path, expected):
    urls = ["/", "/console/", "/console/webhooks/", "/requests/", "/requests/queue/", "/accounts/security/"]
    assert current_url(path, urls) == expected


def test_no_page_has_two_current_entries_and_each_entry_is_current_on_its_own_page(admin_client_acme, acme):
    for _name, url in every_url(acme):
        response = admin_client_acme.get(url)
        if response.status_code != 200 or not response["Content-Type"].startswith("text/html"):
            continue
        assert len(current_entries(response.content.decode())) <= 1, url
    html = admin_client_acme.get("/").content.decode()
    for href in re.findall(r'<li[^>]*><a href="([^"]+)"', html.split('data-testid="main-nav"', 1)[1]):
        assert current_entries(admin_client_acme.get(href).content.decode()) == [href], href


def test_small_screens_get_a_menu_button_driven_by_the_projects_script(admin_client_acme):
    html = admin_client_acme.get("/").content.decode()
    button = re.search(r"<button[^>]*data-menu-button[^>]*>", html)[0]
    assert 'aria-controls="main-nav"' in button and 'aria-expanded="false"' in button
    assert 'id="main-nav"' in html
    assert "<script>" not in html and "onclick" not in html  # CSP: no inline script
    script = (STATIC / "js" / "portal.js").read_text()
    assert "[data-menu-button]" in script and "aria-expanded" in script and "nav-open" in script
    css = (STATIC / "css" / "portal.css").read_text()
    assert ".js .nav-open .sidebar" in css and ".js .topbar .menu-button" in css


def test_a_password_only_session_sees_no_menu(acme_admin):
    from tests.accounts.conftest import password_only
    from tests.accounts.mfa_helpers import give_device

    give_device(acme_admin)
    client, _response = password_only(acme_admin)
    html = client.get("/accounts/mfa/").content.decode()
    assert 'data-testid="main-nav"' not in html and "data-menu-button" not in html
