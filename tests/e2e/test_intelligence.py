"""Access intelligence end to end on the demo (issue 20, "Done when"): an administrator reads an
outlier's reason, turns a mined role into a real one after its impact preview, and sees the anomaly
alert for a planted burst."""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts import services
from accounts.models import Tenant
from accounts.scoping import dangerously_unscoped, tenant_scope
from intelligence.models import ProposalStatus, RoleProposal
from intelligence.services import anomalies
from intelligence.services.analysis import store
from permissions.models import Module, Role
from permissions.services import grants
from permissions.services.organisations import create_organisation, set_user_organisation
from tests.e2e.conftest import log_in
from tests.intelligence.test_alerts import plant_burst


@pytest.fixture
def planted(demo):
    """Twelve Basic users at Umbrella Labs: six share a bundle of grants, one alone holds reports: delete;
    one of them made 150 exports this hour after four quiet weeks."""
    with dangerously_unscoped():
        tenant = Tenant.objects.get(slug="acme")
    with tenant_scope(tenant):
        org = create_organisation(actor=None, tenant=tenant, name="Umbrella Labs")
        basic = tenant.roles.get(builtin=True, key="basic")
        people = []
        for n in range(12):
            user = services.create_user(tenant=tenant, email=f"lab{n:02d}@acme.example", password=None, role=basic)
            set_user_organisation(user, org, actor=None)
            people.append(user)
        modules = {m.key: m for m in Module.objects.filter(key__in=["analytics", "reports"])}
        for user in people[:6]:
            grants.grant(actor=None, module=modules["analytics"], user=user, actions=["view", "export"], reason="lab")
            grants.grant(actor=None, module=modules["reports"], user=user, actions=["view", "change"], reason="lab")
        grants.grant(actor=None, module=modules["reports"], user=people[11], actions=["delete"], reason="one-off")
    plant_burst(tenant, people[3])
    with tenant_scope(tenant):
        anomalies.detect(tenant)
        store(tenant, timezone.now())
        mined = [p for p in RoleProposal.objects.filter(status=ProposalStatus.OPEN) if people[0].pk in p.members]
        proposal = max(mined, key=lambda p: len(p.rights)) if mined else None
    return tenant, people, proposal


def test_administrator_reads_an_outlier_creates_a_mined_role_and_sees_the_burst(page, live_server, planted):
    tenant, people, proposal = planted
    assert proposal is not None, "the planted bundle was not mined"
    log_in(page, live_server, "admin@acme.example")

    page.get_by_role("link", name="Access intelligence").click()
    row = page.locator('[data-testid="outlier"][data-user="lab11@acme.example"]')
    expect(row.get_by_test_id("outlier-reason")).to_contain_text(
        "held by 0 of 11 colleagues at Umbrella Labs in role Basic user; never used."
    )

    page.get_by_test_id("intelligence-tabs").get_by_role("link", name="Mined roles").click()
    page.locator(f'a[href$="/console/intelligence/roles/{proposal.pk}/"]').click()
    expect(page.get_by_test_id("impact")).to_be_visible()
    expect(page.get_by_test_id("proposal-rights")).to_contain_text("Analytics")
    page.get_by_label("Name of the new role").fill("Lab analysts")
    page.get_by_label("Reason").fill("Mined from the labs' shared access")
    page.get_by_test_id("adopt").click()
    expect(page.locator(".message-success")).to_contain_text("Lab analysts")
    with tenant_scope(tenant):
        assert Role.objects.filter(name="Lab analysts").exists()

    page.get_by_role("link", name="Access intelligence").click()
    page.get_by_test_id("intelligence-tabs").get_by_role("link", name="Alerts").click()
    burst = page.locator('[data-testid="alert"][data-kind="burst"]')
    expect(burst).to_contain_text("lab03@acme.example")
    expect(burst.get_by_test_id("alert-text")).to_contain_text("150 uses of Export today")
