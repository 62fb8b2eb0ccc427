"""Browser stories of the console screens: users (search, invite, deactivate), groups, roles, modules and
resources (sensitive attributes), revoking a grant, four-eyes approval by a second administrator, and
what a basic customer is refused."""

import re

from django.core import mail
from playwright.sync_api import expect

from accounts.models import User
from accounts.scoping import dangerously_unscoped
from tests.e2e.conftest import add_person, log_in, log_out


def user(email):
    with dangerously_unscoped():
        return User.objects.select_related("tenant", "role").get(email=email)


def message(page, kind="success"):
    return page.locator(f".message-{kind}")


def test_admin_searches_the_users_and_invites_one(page, live_server, demo):
    log_in(page, live_server, "admin@acme.example")
    page.get_by_role("navigation").get_by_role("link", name="Users").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Users")
    expect(page.get_by_test_id("user-count")).to_have_text("16 users")  # two Administrators since issue 13

    page.get_by_label("Name or email").fill("Basic 1")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_test_id("user-count")).to_have_text("2 users")  # Basic 1 and Basic 10
    page.get_by_label("Group").select_option(label="Initech")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_test_id("user-count")).to_have_text("1 user")
    expect(page.get_by_test_id("users")).to_contain_text("basic1@acme.example")
    expect(page.get_by_test_id("users")).not_to_contain_text("basic10@acme.example")

    page.get_by_role("link", name="Invite a user").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Invite a user")
    role = page.get_by_label("Role")
    expect(role.locator("option", has_text="Advanced user")).to_have_count(1)
    expect(role.locator("option", has_text="Administrator")).to_have_count(0)  # console rights: not here

    page.get_by_label("Email").fill("basic2@acme.example")  # taken
    page.get_by_label("Full name").fill("Nora Newcomer")
    role.select_option(label="Advanced user")
    page.get_by_role("button", name="Send the invitation").click()
    expect(page.locator(".field-error")).to_have_text("This email cannot be invited.")

    mail.outbox.clear()
    page.get_by_label("Email").fill("nora@acme.example")
    page.get_by_role("button", name="Send the invitation").click()
    expect(message(page)).to_have_text("nora@acme.example was invited.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Nora Newcomer")
    facts = page.get_by_test_id("user-facts")
    expect(facts).to_contain_text("Advanced user")
    expect(facts).to_contain_text("Invited")
    expect(page.get_by_role("button", name="Send the invitation again")).to_be_visible()
    expect(page.get_by_role("link", name="Deactivate")).to_have_count(0)
    assert [m.to for m in mail.outbox] == [["nora@acme.example"]]


def test_admin_deactivates_a_user_who_can_then_no_longer_log_in(page, live_server, demo):
    log_in(page, live_server, "admin@acme.example")
    page.goto(f"{live_server.url}/console/users/?q=basic6")
    page.get_by_test_id("users").get_by_role("link", name="Blake Basic 6").click()
    page.get_by_role("link", name="Deactivate").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Deactivate Blake Basic 6")
    page.get_by_label("Reason").fill("Left the customer's company")
    page.get_by_role("button", name="Deactivate").click()

    expect(message(page)).to_have_text("Blake Basic 6 was deactivated; their sessions ended.")
    expect(page.get_by_test_id("user-facts")).to_contain_text("Inactive")
    expect(page.get_by_role("link", name="Reactivate")).to_be_visible()
    expect(page.get_by_role("link", name="Deactivate")).to_have_count(0)
    expect(page.get_by_role("link", name="Reset MFA")).to_have_count(0)
    page.get_by_role("link", name="Login history").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Login history of Blake Basic 6")

    # Nobody deactivates or demotes themselves from their own page.
    page.goto(f"{live_server.url}/console/users/?q=admin%40")
    page.get_by_test_id("users").get_by_role("link", name="Ada Admin").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ada Admin")
    for name in ("Deactivate", "Change role", "Reset MFA", "Grant access"):
        expect(page.locator(".page-head").get_by_role("link", name=name)).to_have_count(0)
    log_out(page)

    log_in(page, live_server, "basic6@acme.example")
    expect(page.get_by_test_id("login-error")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text("Log in")


def test_admin_creates_a_group_and_adds_an_owner(page, live_server, demo):
    log_in(page, live_server, "admin@acme.example")
    page.get_by_role("navigation").get_by_role("link", name="Groups").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Groups")
    expect(page.get_by_test_id("groups").locator("tr", has_text="Initech")).to_contain_text("5")

    page.get_by_role("link", name="New group").click()
    page.get_by_label("Name", exact=True).fill("Wayne Enterprises")
    page.get_by_label("Kind").select_option(label="Customer company")
    page.get_by_label("Description").fill("Gotham's distributor")
    page.get_by_role("button", name="Create").click()
    expect(message(page)).to_have_text("The group Wayne Enterprises was created.")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Wayne Enterprises")
    expect(page.get_by_role("heading", name="0 members")).to_be_visible()
    expect(page.get_by_test_id("group-grants")).to_contain_text("The group holds no grants.")

    page.get_by_label("Email of the user").fill("nobody@globex.example")  # another tenant's: not found
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.locator(".field-error")).to_have_text("No user of your organisation has this email.")
    page.get_by_label("Email of the user").fill("basic9@acme.example")
    page.get_by_label("Owner of the group").check()
    page.get_by_role("button", name="Add", exact=True).click()
    expect(message(page)).to_have_text("basic9@acme.example joined Wayne Enterprises.")
    member = page.get_by_test_id("members").locator("tr", has_text="basic9@acme.example")
    expect(member).to_contain_text("owner")
    expect(member.get_by_role("button", name="Remove as owner")).to_be_visible()
    expect(page.get_by_role("heading", name="1 member")).to_be_visible()


def test_admin_creates_a_role_clones_renames_and_deletes_and_the_administrator_role_is_locked(page, live_server, demo):
    log_in(page, live_server, "admin@acme.example")
    page.get_by_role("navigation").get_by_role("link", name="Roles").click()
    page.get_by_test_id("roles").get_by_role("link", name="Administrator").click()
    expect(page.get_by_test_id("matrix-locked")).to_have_text("The Administrator role always holds everything.")
    for name in ("Edit the matrix", "Rename", "Delete"):
        expect(page.locator(".page-head").get_by_role("link", name=name)).to_have_count(0)

    page.get_by_role("link", name="Roles").first.click()
    page.get_by_test_id("roles").get_by_role("link", name="Basic user").click()
    expect(page.locator(".page-head").get_by_role("link", name="Delete")).to_have_count(0)  # built in
    page.get_by_role("link", name="Clone").click()
    expect(page.get_by_label("Name", exact=True)).to_have_value("Copy of Basic user")
    page.get_by_label("Name", exact=True).fill("Catalogue readers")
    page.get_by_role("button", name="Clone").click()
    expect(message(page)).to_have_text("The role Catalogue readers was created.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Catalogue readers")
    expect(page.locator("ul.plain")).to_contain_text("Nobody holds this role.")

    page.get_by_role("link", name="Rename").click()
    page.get_by_label("Name", exact=True).fill("Catalogue viewers")
    page.get_by_role("button", name="Rename").click()
    expect(message(page)).to_have_text("The role was renamed.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Catalogue viewers")

    page.locator(".page-head").get_by_role("link", name="Delete").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Delete the role Catalogue viewers")
    page.get_by_role("button", name="Delete").click()
    expect(message(page)).to_have_text("The role Catalogue viewers was deleted.")
    expect(page.get_by_test_id("roles")).not_to_contain_text("Catalogue")

    page.get_by_role("link", name="New role").click()
    page.get_by_label("Name", exact=True).fill("Auditors")
    page.get_by_role("button", name="Create").click()
    expect(message(page)).to_have_text("The role Auditors was created.")
    expect(page.get_by_label("Products: View", exact=True)).not_to_be_checked()  # straight to its empty matrix


def test_admin_creates_a_custom_module_and_a_resource_whose_sensitive_value_a_grantee_sees_masked(
    page, live_server, demo
):
    log_in(page, live_server, "admin@acme.example")
    page.get_by_role("navigation").get_by_role("link", name="Modules and resources").click()
    modules = page.get_by_test_id("modules")
    expect(modules.locator("tr", has_text="Audit trail")).to_contain_text("read-only")
    expect(modules.get_by_role("link", name="Audit trail")).to_have_count(0)  # system modules hold no resources

    page.get_by_role("link", name="New module").click()
    page.get_by_label("Key").fill("contracts")
    page.get_by_label("Name", exact=True).fill("Contracts")
    page.get_by_label("Sensitive attribute names").fill("discount")
    page.get_by_role("button", name="Create").click()
    expect(message(page)).to_have_text("The module Contracts was created.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Contracts")
    expect(page.get_by_test_id("resources")).to_contain_text("No resources you may view.")

    page.get_by_role("link", name="New resource").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("New resource in Contracts")
    expect(page.locator("main")).to_contain_text("Sensitive attributes of this module: Discount (discount)")
    page.get_by_label("Title").fill("Frame contract 2026")
    page.get_by_label("External id").fill("C-2026")
    page.get_by_label("Attributes").fill("term = 24 months\ndiscount = 12%")
    page.get_by_role("button", name="Save").click()
    expect(message(page)).to_have_text("Frame contract 2026 was created.")
    attributes = page.get_by_test_id("resource-attributes")
    expect(attributes).to_contain_text("12%")  # the administrator holds View sensitive fields
    expect(attributes).to_contain_text("24 months")

    page.get_by_role("link", name="Grant access").click()
    page.get_by_label("User (email)").fill("advanced1@acme.example")
    page.get_by_label("View", exact=True).check()
    page.get_by_label("Reason").fill("Negotiates the renewal")
    page.get_by_role("button", name="Grant").click()
    expect(message(page)).to_contain_text(re.compile(r"Grant #\d+ was created\."))
    log_out(page)

    log_in(page, live_server, "advanced1@acme.example")
    page.get_by_role("navigation").get_by_role("link", name="Contracts").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Contracts")
    row = page.get_by_test_id("resource-list").locator("tr", has_text="Frame contract 2026")
    expect(row).to_contain_text("24 months")
    expect(row).to_contain_text("••••")
    expect(row).not_to_contain_text("12%")
    expect(page.get_by_test_id("export-button")).to_have_count(0)
    row.get_by_role("link", name="Frame contract 2026").click()
    expect(page.get_by_test_id("resource-title")).to_have_text("Frame contract 2026")
    expect(page.get_by_test_id("attributes")).to_contain_text("••••")
    expect(page.locator("main")).not_to_contain_text("12%")
    expect(page.get_by_role("link", name="Request sensitive fields")).to_be_visible()


def test_admin_revokes_a_grant_after_reading_who_loses_what(page, live_server, demo):
    log_in(page, live_server, "admin@acme.example")
    page.goto(f"{live_server.url}/console/users/?q=basic7")
    page.get_by_test_id("users").get_by_role("link", name="Blake Basic 7").click()
    row = page.get_by_test_id("user-grants").locator("tr", has_text="Catalogue export for the partner portal")
    row.get_by_role("link", name="Revoke").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"Revoke grant #\d+"))
    expect(page.get_by_test_id("impact")).to_contain_text("1 user loses access")
    expect(page.get_by_test_id("impact")).to_contain_text("basic7@acme.example: Products · Export")
    page.get_by_label("Reason").fill("The partner portal was retired")
    page.get_by_role("button", name="Revoke").click()
    expect(message(page)).to_have_text(re.compile(r"Grant #\d+ was revoked\."))
    row = page.get_by_test_id("user-grants").locator("tr", has_text="Catalogue export for the partner portal")
    expect(row).to_contain_text("revoked")
    expect(row.get_by_role("link", name="Revoke")).to_have_count(0)


def test_a_role_with_console_rights_waits_for_a_second_administrator_who_approves_it(page, live_server, demo):
    # admin2@acme.example ships with the demo (issue 13): the second administrator is already there
    log_in(page, live_server, "admin@acme.example")
    page.goto(f"{live_server.url}/console/users/?q=basic4")
    page.get_by_test_id("users").get_by_role("link", name="Blake Basic 4").click()
    page.get_by_role("link", name="Change role").click()
    page.get_by_label("New role").select_option(label="Administrator")
    page.get_by_label("Reason").fill("Runs the customer's account")
    page.get_by_role("button", name="Change role").click()
    expect(message(page, "info")).to_have_text("The change waits for a second administrator's approval.")
    page.locator(".alert-warning").get_by_role("link").click()
    expect(page.get_by_test_id("own-change")).to_contain_text("another administrator must approve it")
    expect(page.get_by_role("button", name="Approve")).to_have_count(0)  # never one's own change
    expect(page.get_by_role("button", name="Withdraw")).to_be_visible()
    log_out(page)

    log_in(page, live_server, "admin2@acme.example")
    page.get_by_role("navigation").get_by_role("link", name="Pending approvals").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Pending approvals")
    row = page.get_by_test_id("approvals").locator("tr", has_text="basic4@acme.example")
    expect(row).to_contain_text("admin@acme.example")
    expect(row).to_contain_text("Runs the customer's account")
    row.get_by_role("link").click()
    expect(page.get_by_test_id("own-change")).to_have_count(0)
    page.get_by_role("button", name="Approve").click()
    expect(message(page)).to_have_text("The change was approved and applied.")
    expect(page.get_by_test_id("change")).to_contain_text("admin2@acme.example")
    expect(page.get_by_role("button", name="Approve")).to_have_count(0)
    assert user("basic4@acme.example").role.key == "administrator"


def test_a_basic_customer_sees_no_console_and_is_refused_its_addresses(page, live_server, demo):
    log_in(page, live_server, "basic1@acme.example")
    menu = page.get_by_role("navigation")
    expect(menu.get_by_role("link", name="My access")).to_be_visible()
    for name in (
        "Users",
        "Roles",
        "Groups",
        "Modules and resources",
        "Pending approvals",
        "Access requests",
        "Access reviews",
        "API keys",
    ):
        expect(menu.get_by_role("link", name=name, exact=True)).to_have_count(0)
    for path in ("/console/users/", "/console/groups/", "/console/modules/", "/console/approvals/"):
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 403, path
    expect(page.locator("body")).not_to_contain_text("basic2@acme.example")


def test_an_administrator_switches_to_chinese_on_the_console_and_my_access(page, live_server, demo):
    log_in(page, live_server, "admin@acme.example")
    page.get_by_role("navigation").get_by_role("link", name="Users").click()
    with page.expect_navigation():
        page.get_by_label("Language").select_option("zh-hans")
    expect(page.get_by_role("heading", level=1)).to_have_text("用户")
    page.get_by_label("姓名或邮箱").fill("basic3")
    page.get_by_role("button", name="筛选").click()
    expect(page.get_by_test_id("users")).to_contain_text("basic3@acme.example")
    expect(page.get_by_test_id("users")).to_contain_text("基础用户")

    menu = page.get_by_role("navigation")
    menu.get_by_role("link", name="待审批").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("待审批")
    menu.get_by_role("link", name="我的权限").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("我的权限")
    expect(page.get_by_test_id("module-access")).to_contain_text("产品")


def test_an_editor_without_sensitive_rights_edits_a_product_and_the_masked_values_are_kept(page, live_server, demo):
    from tests.console.conftest import role_with
    from tests.workspace.conftest import resource

    acme = user("admin@acme.example").tenant
    editors = role_with(acme, "Catalogue editor", {"modules": ["view"], "products": ["view", "change"]})
    add_person("editor@acme.example", editors, "Eddie Editor")
    log_in(page, live_server, "editor@acme.example")
    menu = page.get_by_role("navigation")
    expect(menu.get_by_role("link", name="Users", exact=True)).to_have_count(0)
    menu.get_by_role("link", name="Modules and resources").click()
    expect(page.get_by_role("link", name="New module")).to_have_count(0)
    page.get_by_test_id("modules").get_by_role("link", name="Products").click()
    expect(page.get_by_role("link", name="New resource")).to_have_count(0)  # change, not create
    page.get_by_label("Title").fill("UPS")
    page.get_by_role("button", name="Search").click()
    page.get_by_test_id("resources").get_by_role("link", name="UPS-1500").click()
    attributes = page.get_by_test_id("resource-attributes")
    expect(attributes).to_contain_text("••••")
    expect(attributes).not_to_contain_text("Supplier 0")
    expect(page.get_by_role("link", name="Grant access")).to_have_count(0)

    page.get_by_role("link", name="Edit").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Edit UPS-1500")
    form = page.get_by_label("Attributes")
    expect(form).to_contain_text("cost_price = ••••")
    expect(form).not_to_contain_text("480")
    form.fill(form.input_value().replace("list_price = 800", "list_price = 850"))
    page.get_by_role("button", name="Save").click()
    expect(message(page)).to_have_text("UPS-1500 was saved.")
    expect(page.get_by_test_id("resource-attributes")).to_contain_text("850")
    saved = resource(acme, "P-008").attributes
    assert saved["list_price"] == 850 and saved["cost_price"] == 480 and saved["supplier"] == "Supplier 0"
