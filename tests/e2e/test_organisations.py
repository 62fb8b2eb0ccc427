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


def test_a_sharing_rule_shows_its_impact_and_appears_in_the_audit_trail(page, live_server, settings, tmp_path, demo):
    settings.AUDIT_KEY_FILE = tmp_path / "audit_signing_key.json"
    log_in(page, live_server, "admin@acme.example")
    page.get_by_role("navigation").get_by_role("link", name="Sharing rules").click()
    expect(page.get_by_test_id("sharing-rules")).to_contain_text("Members view their organisation's reports")
    page.get_by_role("link", name="New sharing rule").click()
    page.get_by_label("Name", exact=True).fill("Umbrella audits Initech")
    page.get_by_label("Kind of rule").select_option(label="Members of one organisation see another's records")
    page.get_by_label("Module").select_option(label="Reports")
    page.get_by_label("View", exact=True).check()
    page.get_by_label("Members of organisation").select_option(label="Umbrella")
    page.get_by_label("Records owned by organisation").select_option(label="Initech")
    page.get_by_label("Reason").fill("Annual audit of Initech by Umbrella")
    page.get_by_role("button", name="Preview the impact").click()
    impact = page.get_by_test_id("impact")
    expect(impact).to_contain_text("basic6@acme.example")
    expect(impact).to_contain_text("Reports: 3 records · View")
    expect(impact).not_to_contain_text("basic1@acme.example")
    page.get_by_role("button", name="Confirm and apply").click()
    expect(page.locator(".message-success")).to_contain_text("The sharing rule Umbrella audits Initech was created.")
    page.get_by_role("link", name="Audit log").click()
    page.get_by_label("Event").select_option(label="Sharing rule created")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_test_id("event-count")).to_have_text("3 events")  # the demo's two, and this one
