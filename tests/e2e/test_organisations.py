"""Customer organisations in the browser (issue 16): basic1 of Initech sees Initech's reports, explained by
the sharing rule, and none of Umbrella's; advanced1, Initech's administrator, sees Initech's people only,
invites a colleague, and gets a 404 for Umbrella's people."""

from playwright.sync_api import expect

from accounts.models import Organisation
from accounts.scoping import tenant_scope
from permissions.models import Resource
from tests.e2e.conftest import log_in, log_out
from tests.workspace.conftest import person


def test_members_see_their_organisations_records_only(page, live_server, demo):
    acme = person("basic1@acme.example").tenant
    with tenant_scope(acme):
        initech_report = Resource.objects.get(external_id="INI-R1")
        umbrella_report = Resource.objects.get(external_id="UMB-R1")
    log_in(page, live_server, "basic1@acme.example")
    page.goto(f"{live_server.url}/m/reports/")
    listing = page.get_by_test_id("resource-list")
    expect(listing).to_contain_text("Initech · Quarterly review")
    expect(listing).to_contain_text("Initech · Usage summary")
    expect(listing).not_to_contain_text("Umbrella ·")
    expect(listing.get_by_test_id("owner-organisation").first).to_have_text("Initech")
    page.goto(f"{live_server.url}/m/reports/{umbrella_report.pk}/")
    expect(page.locator("body")).not_to_contain_text(umbrella_report.title)
    page.goto(f"{live_server.url}/m/reports/{initech_report.pk}/")
    expect(page.locator("body")).to_contain_text(initech_report.title)
    page.goto(f"{live_server.url}/my-access/")
    expect(page.locator("body")).to_contain_text("because you work for Initech")


def test_an_organisation_administrator_manages_only_their_people(page, live_server, demo):
    acme = person("advanced1@acme.example").tenant
    with tenant_scope(acme):
        umbrella = Organisation.objects.get(name="Umbrella")
    log_in(page, live_server, "advanced1@acme.example")
    page.get_by_role("navigation").get_by_role("link", name="My organisations").click()
    page.get_by_test_id("my-organisations").get_by_role("link", name="Initech").click()
    people = page.get_by_test_id("organisation-people")
    expect(people).to_contain_text("basic1@acme.example")
    expect(people).not_to_contain_text("basic6@acme.example")
    invite = page.get_by_test_id("invite-form")
    invite.get_by_label("Email").fill("colleague@acme.example")
    invite.get_by_label("Role").select_option(label="Basic user")
    invite.get_by_role("button", name="Invite").click()
    expect(page.locator(".message-success")).to_contain_text("colleague@acme.example was invited into Initech")
    expect(page.get_by_test_id("organisation-people")).to_contain_text("colleague@acme.example")
    response = page.goto(f"{live_server.url}/console/my-organisations/{umbrella.pk}/")
    assert response.status == 404
    expect(page.locator("body")).not_to_contain_text("basic6@acme.example")
    log_out(page)
