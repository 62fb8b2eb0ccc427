"""Browser stories of issue 17 (items 1 and 7): an administrator writes a separation-of-duties rule, a grant
that would break it is refused with the rule and its reason, and the violations page lists who already
breaks it; a tenant requires a lesson before a right, the refusal links to the lesson, the customer completes
it, and the right becomes grantable."""

from playwright.sync_api import expect

from accounts.models import User
from accounts.scoping import dangerously_unscoped, tenant_scope
from permissions import engine
from tests.e2e.conftest import log_in, log_out
from training.lessons import get


def user(email):
    with dangerously_unscoped():
        return User.objects.select_related("tenant", "role").get(email=email)


def grant(page, live_server, email, module, action, reason):
    page.goto(f"{live_server.url}/console/grants/new/")
    page.get_by_label("User (email)").fill(email)
    page.get_by_label("Module").select_option(label=module)
    page.get_by_label(action, exact=True).check()
    page.get_by_label("Reason", exact=True).fill(reason)
    page.get_by_role("button", name="Grant").click()


def test_a_sod_rule_refuses_a_grant_and_says_why(page, live_server, demo):
    log_in(page, live_server, "admin@acme.example")
    page.get_by_role("link", name="Separation of duties").click()
    page.get_by_role("link", name="New rule").click()
    page.get_by_label("Name", exact=True).fill("Catalogue readers do not export reports")
    page.get_by_label("Severity").select_option(label="High")
    page.get_by_label("Reason").fill("Report exports leave the company: only analysts export")
    page.locator("#id_first_module").select_option(label="Products")
    page.locator("input[name=first_actions][value=view]").check()
    page.locator("#id_second_module").select_option(label="Reports")
    page.locator("input[name=second_actions][value=export]").check()
    page.get_by_role("button", name="Create the rule").click()
    expect(page.locator(".message-success")).to_contain_text("Catalogue readers do not export reports")
    expect(page.get_by_test_id("sod-rules")).to_contain_text("Reports: Export")

    grant(page, live_server, "basic3@acme.example", "Reports", "Export", "Quarterly figures")
    message = page.locator(".message-error")
    expect(message).to_contain_text("Catalogue readers do not export reports")
    expect(message).to_contain_text("Report exports leave the company: only analysts export")
    basic3 = user("basic3@acme.example")
    with tenant_scope(basic3.tenant):
        assert not engine.can(basic3, "export", "reports")

    page.get_by_role("link", name="Separation of duties").click()
    page.get_by_role("link", name="Violations now").click()
    expect(page.get_by_test_id("sod-violations")).to_contain_text("advanced1@acme.example")  # held before the rule


def test_a_customer_completes_a_lesson_and_the_right_becomes_grantable(page, live_server, demo):
    lesson = get("protect-account")
    log_in(page, live_server, "admin@acme.example")
    page.get_by_role("link", name="Required lessons").click()
    page.get_by_role("link", name="Require a lesson").click()
    page.get_by_label("Lesson").select_option(label=str(lesson.title))
    page.get_by_label("or before, on module").select_option(label="Reports")
    page.get_by_label("Export", exact=True).check()
    page.get_by_role("button", name="Require it").click()
    expect(page.get_by_test_id("requirements")).to_contain_text("Protecting your account")

    grant(page, live_server, "basic3@acme.example", "Reports", "Export", "Quarterly figures")
    expect(page.locator(".message-error")).to_contain_text("must first complete the security lesson")
    expect(page.locator(".message-error").get_by_role("link", name="Open the lesson")).to_have_attribute(
        "href", "/training/lessons/protect-account/"
    )
    log_out(page)

    log_in(page, live_server, "basic3@acme.example")
    page.get_by_role("link", name="Security lessons").click()
    page.get_by_role("link", name="Protecting your account").click()
    expect(page.locator(".lesson")).to_contain_text("password manager")
    for question in lesson.questions:
        page.get_by_label(str(question.choices[question.answer]), exact=True).check()
    page.get_by_label("I have read this lesson and I will follow it.").check()
    page.get_by_role("button", name="Complete the lesson").click()
    expect(page.locator(".message-success")).to_contain_text("Lesson completed")
    log_out(page)

    log_in(page, live_server, "admin@acme.example")
    grant(page, live_server, "basic3@acme.example", "Reports", "Export", "Quarterly figures")
    expect(page.locator(".message-success")).to_contain_text("was created")
    basic3 = user("basic3@acme.example")
    with tenant_scope(basic3.tenant):
        assert engine.can(basic3, "export", "reports")
