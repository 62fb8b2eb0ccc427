"""Issue 19: every screen of every persona, in a real browser, in English and in Chinese, at 1366 and 390 px.

Each persona of the demo (an administrator, a reviewer, a customer) logs in; the screens are the portal's
URL walk (tests/urlwalk.py: every named pattern, ids filled with the tenant's own objects) that answer that
persona with an HTML page. On each screen, at each width:

- no horizontal scroll: the page is never wider than the window (a wide table scrolls in its own container);
- no text squeezed to one character per line (narrow Chinese columns);
- a screenshot is saved as a test artefact (test-artifacts/screens/<persona>/<language>/<width>/<screen>.png);
- axe-core (the npm package, tests/package.json, installed by `make test`) finds no serious or critical
  violation.

Problems are gathered over all screens and reported together, so one run shows everything to fix.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.e2e.conftest import ARTIFACTS, log_in

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "tests" / "node_modules" / "axe-core" / "axe.min.js"
WIDTHS = (1366, 390)
PERSONAS = {
    "administrator": "admin@acme.example",
    "reviewer": "reviewer@acme.example",
    "customer": "basic1@acme.example",
}
# Pages behind e-mailed links act on a token of another person (they would end this session), the
# language switch and logout are POST only: not screens of a signed-in persona.
NOT_SCREENS = {"accounts:invitation", "accounts:password_reset_confirm", "favicon"}
# Swagger UI (drf-spectacular's page around a third-party application) is checked for width, not by axe:
# its widgets (nested buttons, grey-on-grey version stamps) are Swagger UI's own, not the portal's layout.
NOT_AXED = {"api:docs"}
# Screens every persona must reach (the guides of issue 19, item 7); the walk finds them like any other page.
REQUIRED_SCREENS = {"guides:index", "guides:administrator", "guides:reviewer", "guides:customer", "home"}
# The fewest screens each persona must reach: a walk that found fewer proves too little.
MINIMUM_SCREENS = {"administrator": 50, "reviewer": 10, "customer": 8}

OVERFLOW_JS = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
# Elements holding text whose box is narrower than two characters and several lines high: one per line.
SQUEEZED_JS = """() => {
  const found = [];
  for (const el of document.querySelectorAll('main th, main td, main .status, main .btn, main label, main dt')) {
    const text = (el.innerText || '').trim();
    if (text.length < 3) continue;
    const style = getComputedStyle(el);
    const size = parseFloat(style.fontSize);
    const box = el.getBoundingClientRect();
    if (box.width > 0 && box.width < 2.2 * size && box.height > 2.5 * size) found.push(text.slice(0, 30));
  }
  return found;
}"""
AXE_JS = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations
    .filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(v => `${v.impact} ${v.id}: ${v.help} (${v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', ')})`);
}"""


def axe_source() -> str:
    if not AXE.exists():
        if os.environ.get("PORTCULLIS_REQUIRE_BROWSER"):
            pytest.fail("axe-core is required: `make axe` (npm ci --prefix tests)")
        pytest.skip("axe-core is not installed (make axe)")
    return AXE.read_text()


def screens_of(page, live_server) -> list[tuple[str, str]]:
    """(name, path) of every walked URL that answers the signed-in persona with an HTML page."""
    from accounts.models import Tenant
    from accounts.scoping import dangerously_unscoped
    from tests.urlwalk import every_url

    with dangerously_unscoped():
        tenant = Tenant.objects.get(slug="acme")
    screens = []
    for name, url in every_url(tenant):
        if name in NOT_SCREENS or name.startswith(("accounts:log", "accounts:set_language")):
            continue
        response = page.request.get(f"{live_server.url}{url}", max_redirects=0)
        if response.status == 200 and response.headers.get("content-type", "").startswith("text/html"):
            screens.append((name, url))
    return screens


def switch_language(page, code: str) -> None:
    with page.expect_navigation():
        page.locator("#language-select").select_option(code)


def check_screen(page, live_server, url: str, shots: Path, name: str, axe: str, problems: dict) -> None:
    """Visit one screen at each width; gather overflow, squeezed text and axe's serious violations."""
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{live_server.url}{url}")
        overflow = page.evaluate(OVERFLOW_JS)
        if overflow > 1:
            problems["overflow"].append(f"{url} at {width} px: {overflow} px too wide")
        squeezed = page.evaluate(SQUEEZED_JS)
        if squeezed:
            problems["squeezed"].append(f"{url} at {width} px: {squeezed[:3]}")
        folder = shots / str(width)
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(folder / f"{re.sub(r'[^a-z0-9_.-]+', '_', name)}.png"), full_page=True)
        if width == WIDTHS[0] and name not in NOT_AXED:
            page.add_script_tag(content=axe)
            problems["axe"] += [f"{url}: {violation}" for violation in page.evaluate(AXE_JS)]


@pytest.fixture
def csp_free_page(browser, request):
    """A page whose context lets the test inject axe-core (the portal's CSP forbids inline scripts)."""
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="en-GB", bypass_csp=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize("persona", list(PERSONAS))
def test_every_screen_of_every_persona(csp_free_page, live_server, demo, persona, language):
    axe = axe_source()
    page = csp_free_page
    log_in(page, live_server, PERSONAS[persona])
    if language != "en":
        switch_language(page, language)
    screens = screens_of(page, live_server)
    assert len(screens) >= MINIMUM_SCREENS[persona], f"{persona} reached only {len(screens)} screens"
    missing = REQUIRED_SCREENS - {name for name, _url in screens}
    assert not missing, f"{persona} did not reach {sorted(missing)}"
    shots = ARTIFACTS / "screens" / persona / language
    problems: dict[str, list[str]] = {"overflow": [], "squeezed": [], "axe": []}
    for name, url in screens:
        check_screen(page, live_server, url, shots, name, axe, problems)
    report = "\n".join(f"{kind}: {line}" for kind, lines in problems.items() for line in lines)
    assert not report, f"{persona} ({language}), {len(screens)} screens:\n{report}"


def test_the_menu_folds_behind_a_button_on_a_small_screen(page, live_server, demo):
    from playwright.sync_api import expect

    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, live_server, "admin@acme.example")
    menu, button = page.get_by_test_id("main-nav"), page.get_by_role("button", name="Menu")
    expect(menu).to_be_hidden()
    expect(button).to_have_attribute("aria-expanded", "false")
    button.click()
    expect(menu).to_be_visible()
    expect(button).to_have_attribute("aria-expanded", "true")
    expect(menu.locator("[aria-current=page]")).to_have_count(1)
    menu.get_by_role("link", name="Users", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Users")
    expect(page.get_by_test_id("main-nav")).to_be_hidden()  # a new page starts folded
    page.set_viewport_size({"width": 1366, "height": 900})
    expect(page.get_by_test_id("main-nav")).to_be_visible()
    expect(page.get_by_role("button", name="Menu")).to_be_hidden()
