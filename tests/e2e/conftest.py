"""Browser tests: Playwright for Python driving Debian's chromium against pytest-django's live server.

Playwright's own browser download is blocked here, so the system chromium is launched. A failing
test leaves a full-page screenshot in test-artifacts/ (git-ignored).
"""

import os
import shutil
from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]

# Playwright's sync API runs an event loop in this thread; Django's ORM calls made by the test
# itself (fixtures, assertions) are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def chromium_path() -> str | None:
    return os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser():
    executable = chromium_path()
    if executable is None:
        if os.environ.get("PORTCULLIS_REQUIRE_BROWSER"):
            pytest.fail("chromium is required for browser tests (apt-get install chromium)")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.rep_call = report


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


@pytest.fixture
def demo(transactional_db):
    """The demo tenants and logins, as `make run` creates them."""
    from accounts import demo as demo_data

    demo_data.seed()
    return demo_data


def log_in(page, live_server, email, password="portcullis-demo"):
    """Log in through the login page, as a person would, with the MFA step (a real TOTP code)."""
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Log in").click()
    if "/accounts/mfa/" in page.url and "/enrol/" not in page.url:
        enter_code(page, email)


def totp_code(email: str) -> str:
    """A code the user's authenticator would show now (not one already used), from its real secret."""
    from accounts.models import User
    from accounts.scoping import dangerously_unscoped
    from tests.accounts.mfa_helpers import device_of, fresh_code

    with dangerously_unscoped():  # test set-up: find the account by e-mail, as the login does
        user = User.objects.select_related("tenant").get(email=email)
    return fresh_code(device_of(user))


def enter_code(page, email, code_label="Code", button="Verify"):
    """Answer the MFA step (or a step-up) with a real code of the user's authenticator."""
    page.get_by_label(code_label, exact=True).fill(totp_code(email))
    with page.expect_navigation():
        page.get_by_role("button", name=button).click()


def mail_to(address: str, timeout: float = 10.0):
    """The e-mail sent to ``address``, waiting for it: the password reset sends its link after the response
    has gone (so its timing says nothing about the address), so the page can be shown before it is sent."""
    import time

    from django.core import mail

    deadline = time.monotonic() + timeout
    while True:
        found = [message for message in mail.outbox if message.to == [address]]
        if found or time.monotonic() > deadline:
            assert len(found) == 1, f"{len(found)} e-mails to {address}"
            return found[0]
        time.sleep(0.05)


def log_out(page):
    """Log out with the top bar's button, and wait for the login page."""
    with page.expect_navigation():
        page.get_by_role("button", name="Log out").click()


def add_person(email, role, full_name=""):
    """Test set-up: one more login of the demo's acme tenant with a demo authenticator; ``role`` is a Role
    of acme or a built-in role's key."""
    from accounts import demo as demo_data
    from accounts import services
    from accounts.mfa.services import add_device_with_key
    from accounts.models import Tenant
    from accounts.scoping import dangerously_unscoped, tenant_scope

    with dangerously_unscoped():
        tenant = Tenant.objects.get(slug="acme")
    with tenant_scope(tenant):
        if isinstance(role, str):
            role = tenant.roles.get(builtin=True, key=role)
        user = services.create_user(
            tenant=tenant, email=email, password=demo_data.DEMO_PASSWORD, role=role, full_name=full_name
        )
    add_device_with_key(user, demo_data.demo_totp_key(email), name="Demo authenticator")
    return user
