"""/api/v1/organisations and /api/v1/sharing-rules, and the organisation fields of users and resources:
writes through the services (audited), previews without writing, denials and foreign ids."""

from accounts.scoping import tenant_scope
from audit.models import AuditEvent
from permissions import engine
from permissions.models import SharingRule
from tests.api.foreign import make
from tests.conftest import login
from tests.factories import UserFactory
from tests.permissions.conftest import make_resource

JSON = "application/json"


def test_organisations_are_created_changed_and_listed(api_acme, acme):
    response = api_acme.post("/api/v1/organisations", {"name": "Initech", "external_id": "INI"}, content_type=JSON)
    assert response.status_code == 201, response.content
    initech = response.json()["id"]
    response = api_acme.post("/api/v1/organisations", {"name": "Initech East", "parent": initech}, content_type=JSON)
    east = response.json()["id"]
    response = api_acme.patch(
        f"/api/v1/organisations/{east}", {"name": "Initech Asia", "status": "suspended"}, content_type=JSON
    )
    assert response.status_code == 200 and response.json()["status"] == "suspended"
    response = api_acme.patch(f"/api/v1/organisations/{initech}", {"parent": east}, content_type=JSON)
    assert response.status_code == 400 and response["Content-Type"].startswith("application/problem+json")
    names = [o["name"] for o in api_acme.get("/api/v1/organisations").json()["results"]]
    assert names == ["Initech", "Initech Asia"]
    with tenant_scope(acme):
        types = set(AuditEvent.objects.filter(target_type="accounts.organisation").values_list("event_type", flat=True))
    assert types == {"organisation.created", "organisation.renamed", "organisation.status_changed"}


def test_a_basic_user_can_neither_read_nor_write_organisations(client, acme, acme_basic):
    login(client, acme_basic)
    assert client.get("/api/v1/organisations").status_code == 403
    assert client.post("/api/v1/organisations", {"name": "Mine"}, content_type=JSON).status_code == 403
    assert client.get("/api/v1/sharing-rules").status_code == 403


def test_foreign_organisations_are_404_and_refused_in_bodies(api_acme, acme, globex, acme_basic):
    org_id, _name = make(globex, "organisation")
    assert api_acme.get(f"/api/v1/organisations/{org_id}").status_code == 404
    response = api_acme.patch(f"/api/v1/users/{acme_basic.pk}", {"organisation": org_id}, content_type=JSON)
    assert response.status_code == 400 and "organisation" in response.content.decode()
    acme_basic.refresh_from_db()
    assert acme_basic.organisation_id is None


def test_users_and_resources_take_an_organisation(api_acme, acme, acme_basic):
    initech = api_acme.post("/api/v1/organisations", {"name": "Initech"}, content_type=JSON).json()["id"]
    response = api_acme.patch(f"/api/v1/users/{acme_basic.pk}", {"organisation": initech}, content_type=JSON)
    assert response.status_code == 200 and response.json()["organisation"] == initech
    report = make_resource(acme, "reports", "Initech · TPS")
    response = api_acme.patch(f"/api/v1/resources/{report.pk}", {"owner_organisation": initech}, content_type=JSON)
    assert response.status_code == 200 and response.json()["owner_organisation"] == initech
    acme_basic.refresh_from_db()
    report.refresh_from_db()
    assert report.owner_organisation_id == initech
    assert not engine.can(acme_basic, "view", report)
    rule = {"name": "Own reports", "kind": "own", "module": "reports", "actions": ["view"], "reason": "customers"}
    preview = api_acme.post("/api/v1/sharing-rules/preview", rule, content_type=JSON)
    assert preview.status_code == 200
    assert preview.json()["gain"] == {acme_basic.email: ["Reports: 1 record · View"]}
    with tenant_scope(acme):
        assert not SharingRule.objects.exists()  # a preview writes nothing
    created = api_acme.post("/api/v1/sharing-rules", rule, content_type=JSON)
    assert created.status_code == 201, created.content
    assert engine.can(acme_basic, "view", report)
    rule_id = created.json()["id"]
    assert api_acme.get(f"/api/v1/sharing-rules/{rule_id}/preview-delete").json()["lose"] == {
        acme_basic.email: ["Reports: 1 record · View"]
    }
    assert api_acme.delete(f"/api/v1/sharing-rules/{rule_id}").status_code == 204
    assert not engine.can(acme_basic, "view", report)


def test_bad_rules_are_problems(api_acme, acme):
    cases = [
        {"name": "x", "kind": "own", "module": "reports", "actions": ["view"]},  # no reason
        {"name": "x", "kind": "criteria", "module": "reports", "actions": ["view"], "reason": "r"},
        {"name": "x", "kind": "own", "module": "users", "actions": ["view"], "reason": "r"},
        {"name": "x", "kind": "own", "module": "reports", "actions": ["approve"], "reason": "r"},
    ]
    for body in cases:
        response = api_acme.post("/api/v1/sharing-rules", body, content_type=JSON)
        assert 400 <= response.status_code < 500, (body, response.content)
        assert response["Content-Type"].startswith("application/problem+json")
    with tenant_scope(acme):
        assert not SharingRule.objects.exists()


def test_an_advanced_user_cannot_create_rules(client, acme):
    advanced = UserFactory(tenant=acme, email="adv@acme.example", role_key="advanced")
    login(client, advanced)
    body = {"name": "x", "kind": "own", "module": "reports", "actions": ["view"], "reason": "r"}
    assert client.post("/api/v1/sharing-rules", body, content_type=JSON).status_code == 403


def test_the_check_api_honours_rules_and_sees_an_owner_change_at_once(api_acme, acme, acme_basic):
    """The check API keeps targets loaded with their id and module only: the rules read the owner fresh."""
    initech = api_acme.post("/api/v1/organisations", {"name": "Initech"}, content_type=JSON).json()["id"]
    umbrella = api_acme.post("/api/v1/organisations", {"name": "Umbrella"}, content_type=JSON).json()["id"]
    api_acme.patch(f"/api/v1/users/{acme_basic.pk}", {"organisation": initech}, content_type=JSON)
    report = make_resource(acme, "reports", "Initech · TPS")
    api_acme.patch(f"/api/v1/resources/{report.pk}", {"owner_organisation": initech}, content_type=JSON)
    rule = {"name": "Own reports", "kind": "own", "module": "reports", "actions": ["view"], "reason": "customers"}
    assert api_acme.post("/api/v1/sharing-rules", rule, content_type=JSON).status_code == 201
    check = {"subject": acme_basic.pk, "action": "view", "target": {"module": "reports", "resource": report.pk}}
    assert api_acme.post("/api/v1/check", check, content_type=JSON).json()["allowed"] is True
    explained = api_acme.post("/api/v1/check?explain=true", check, content_type=JSON).json()
    api_acme.patch(f"/api/v1/resources/{report.pk}", {"owner_organisation": umbrella}, content_type=JSON)
    assert api_acme.post("/api/v1/check", check, content_type=JSON).json()["allowed"] is False
    assert explained["allowed"] is True and explained["paths"][0]["kind"] == "sharing_rule"
    assert "because you work for Initech" in explained["paths"][0]["text"]
