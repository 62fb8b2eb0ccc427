"""A person logs in, sees their tenant, switches language, logs out."""

from playwright.sync_api import expect

from tests.e2e.conftest import enter_code, log_in


def test_admin_logs_in_and_sees_the_tenant_name(page, live_server, demo):
    log_in(page, live_server, "admin@acme.example")
    expect(page.get_by_test_id("tenant-name")).to_have_text("Acme Trading")
    expect(page.get_by_test_id("home-role")).to_have_text("Administrator")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Welcome, Ada Admin")
    expect(page.locator("body")).not_to_contain_text("Globex")


def test_wrong_password_shows_the_error_and_no_session(page, live_server, demo):
    log_in(page, live_server, "admin@acme.example", password="not-the-password")
    expect(page.get_by_test_id("login-error")).to_have_text("The email or password is not correct.")
    assert not any(cookie["name"] == "portcullis_session" for cookie in page.context.cookies())
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(f"{live_server.url}/accounts/login/?next=/")


def test_switching_to_chinese_on_login_and_home(page, live_server, demo):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Language").select_option("zh-hans")
    expect(page.get_by_role("heading", level=1)).to_have_text("登录")
    page.get_by_label("电子邮件").fill("basic1@globex.example")
    page.get_by_label("密码").fill("portcullis-demo")
    page.get_by_role("button", name="登录", exact=True).click()  # not "使用通行密钥登录"
    expect(page.get_by_role("heading", level=1)).to_have_text("验证码")
    enter_code(page, "basic1@globex.example", code_label="验证码", button="验证")
    expect(page.get_by_test_id("tenant-name")).to_have_text("Globex")
    expect(page.get_by_test_id("home-role")).to_have_text("基础用户")
    expect(page.get_by_role("button", name="退出登录")).to_be_visible()


def test_logout_returns_to_login(page, live_server, demo):
    log_in(page, live_server, "reviewer@acme.example")
    expect(page.get_by_test_id("tenant-name")).to_have_text("Acme Trading")
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Log in")
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(f"{live_server.url}/accounts/login/?next=/")
