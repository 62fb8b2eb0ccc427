"""The pages: administrators only, reasons in words, impact preview and "create this role", usage
analytics with SVG and CSV, alerts with step-up; another tenant's ids are 404."""

import pytest
from django.test import Client
from django.utils import timezone

from accounts.scoping import tenant_scope
from intelligence.models import ProposalStatus, RightsizingProposal, RoleProposal
from intelligence.services.analysis import store
from permissions.models import PendingChange, Role, RolePermission
from permissions.vocabulary import mask_of
from tests.conftest import login
from tests.intelligence.conftest import event_types

pytestmark = pytest.mark.django_db

PAGES = [f"/console/intelligence/{page}" for page in ("", "proposals/", "roles/", "usage/", "usage.csv", "alerts/")]


def _mined(acme):
    with tenant_scope(acme):
        store(acme, timezone.now())
        return RoleProposal.objects.get(status=ProposalStatus.OPEN)


@pytest.mark.parametrize("path", PAGES)
def test_pages_answer_administrators(admin_client_acme, colleagues, path):
    assert admin_client_acme.get(path).status_code == 200


@pytest.mark.parametrize("path", PAGES)
def test_pages_refuse_a_basic_user(acme_basic, path):
    response = login(Client(), acme_basic).get(path)
    assert response.status_code == 403


def test_menu_shows_intelligence_to_administrators_only(admin_client_acme, acme_basic):
    assert b"/console/intelligence/" in admin_client_acme.get("/").content
    assert b"/console/intelligence/" not in login(Client(), acme_basic).get("/").content


def test_outlier_reason_in_words_in_english_and_chinese(admin_client_acme, acme_admin, colleagues):
    page = admin_client_acme.get("/console/intelligence/").content.decode()
    assert "c19@acme.example" in page
    assert "held by 0 of 19 colleagues at Initech in role Basic user; never used." in page
    admin_client_acme.post("/accounts/language/", {"language": "zh-hans"})
    chinese = admin_client_acme.get("/console/intelligence/").content.decode()
    assert "Initech" in chinese and "held by" not in chinese


def test_mined_role_preview_and_create_in_one_step(admin_client_acme, acme, colleagues):
    proposal = _mined(acme)
    assert proposal.rights["analytics"] == mask_of(["view", "export"])
    assert {c.pk for c in colleagues[:7]} <= set(proposal.members) and colleagues[7].pk not in proposal.members
    page = admin_client_acme.get(f"/console/intelligence/roles/{proposal.pk}/").content.decode()
    assert 'data-testid="impact"' in page
    assert "7 holders would keep exactly the access they have." in page  # c00–c06: the bundle is their access
    assert "admin@acme.example" in page  # the administrator would lose the console: shown before anything
    response = admin_client_acme.post(f"/console/intelligence/roles/{proposal.pk}/", {"name": "Analyst"})
    assert response.status_code == 302
    with tenant_scope(acme):
        role = Role.objects.get(name="Analyst")
        cells = dict(RolePermission.objects.filter(role=role).values_list("module__key", "actions"))
        proposal.refresh_from_db()
    assert cells == proposal.rights and proposal.created_role == role and proposal.status == ProposalStatus.DONE
    events = set(event_types(acme, ""))
    assert {"role.created", "role.matrix_changed", "intelligence.role_adopted"} <= events
    again = admin_client_acme.post(f"/console/intelligence/roles/{proposal.pk}/", {"name": "Analyst 2"})
    assert again.status_code == 200
    with tenant_scope(acme):
        assert not Role.objects.filter(name="Analyst 2").exists()


def test_a_mined_role_with_console_rights_waits_for_a_second_administrator(admin_client_acme, acme, colleagues):
    with tenant_scope(acme):
        proposal = RoleProposal.objects.create(
            tenant=acme, key="x", rights={"users": mask_of(["view", "change"])}, members=[colleagues[0].pk]
        )
    admin_client_acme.post(f"/console/intelligence/roles/{proposal.pk}/", {"name": "User admins"})
    with tenant_scope(acme):
        role = Role.objects.get(name="User admins")
        assert not RolePermission.objects.filter(role=role).exists()
        assert PendingChange.objects.filter(kind="matrix", status="pending").count() == 1


def test_a_basic_user_cannot_create_from_a_proposal(acme, acme_basic, colleagues):
    proposal = _mined(acme)
    response = login(Client(), acme_basic).post(f"/console/intelligence/roles/{proposal.pk}/", {"name": "Mine"})
    assert response.status_code == 403
    with tenant_scope(acme):
        assert not Role.objects.filter(name="Mine").exists()


def test_another_tenants_proposals_are_404(acme, colleagues, globex_admin_client):
    proposal = _mined(acme)
    with tenant_scope(acme):
        removal = RightsizingProposal.objects.get(kind="remove")
    assert globex_admin_client.get(f"/console/intelligence/roles/{proposal.pk}/").status_code == 404
    assert globex_admin_client.post(f"/console/intelligence/proposals/{removal.pk}/dismiss/").status_code == 404
    with tenant_scope(acme):
        assert RightsizingProposal.objects.get(pk=removal.pk).status == ProposalStatus.OPEN


def test_usage_page_has_svg_charts_and_a_csv(admin_client_acme, acme, colleagues):
    from permissions import usage
    from permissions.usage import record_use

    for _ in range(3):
        record_use(colleagues[0], "view", "reports")
    usage.flush()  # the uses' last-use marks and their counts
    page = admin_client_acme.get("/console/intelligence/usage/").content.decode()
    assert page.count("<svg") >= 4 and "<script" not in page.split("<svg")[1]
    csv = admin_client_acme.get("/console/intelligence/usage.csv").content.decode().splitlines()
    assert csv[0] == "module,action,holders,users_used_90d,uses_90d,category"
    assert "reports,view,9,1,3,used" in csv  # eight colleagues by grant, the administrator by role
    assert "reports,delete,2,0,0,unused" in csv
