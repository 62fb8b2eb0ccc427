"""/api/v1/imports and /api/v1/exports, and tenant isolation: an import never names or touches another tenant's
rows (a foreign e-mail is a new person of this tenant; a foreign organisation or role is "not found")."""

from accounts.models import User
from accounts.organisations import Organisation
from accounts.scoping import tenant_scope
from integration.rows import Upload
from permissions.services import organisations as organisation_services
from tests.api.conftest import bearer, issue
from tests.factories import UserFactory
from tests.imports.kit import SAMPLES, problems, run, state


def _body(dry_run, *names, format_key="portcullis"):
    files = [{"name": n, "content": (SAMPLES / n).read_text(encoding="utf-8-sig")} for n in names]
    return {"format": format_key, "files": files, "dry_run": dry_run}


def test_the_api_dry_runs_then_applies(acme, acme_admin):
    api = bearer(issue(acme_admin)[1])
    response = api.post("/api/v1/imports", _body(True, "portcullis.json"), content_type="application/json")
    assert response.status_code == 200
    report = response.json()
    assert report["applied"] is False and report["problems"] == []
    assert [op["summary"] for op in report["operations"]] == [
        "Create the organisation Initech",
        "Create the organisation Initech Europe under Initech",
        "Create the role Analyst",
        "Invite peter.gibbons@initech.example as Analyst",
        "Grant peter.gibbons@initech.example View, Change on Products",
    ]
    assert state(acme)["users"] == {}

    response = api.post("/api/v1/imports", _body(False, "portcullis.json"), content_type="application/json")
    assert response.status_code == 200 and response.json()["applied"] is True
    assert list(state(acme)["users"]) == ["peter.gibbons@initech.example"]

    response = api.post("/api/v1/exports", {"file_format": "portcullis-csv"}, content_type="application/json")
    assert response.status_code == 200 and b"peter.gibbons@initech.example" in response.content


def test_the_api_answers_422_with_the_rows_when_nothing_was_applied(acme, acme_admin):
    api = bearer(issue(acme_admin)[1])
    body = {
        "format": "portcullis",
        "dry_run": False,
        "files": [{"name": "x.csv", "content": "record,email\nuser,bad\n"}],
    }
    response = api.post("/api/v1/imports", body, content_type="application/json")
    assert response.status_code == 422
    assert response.json()["problems"] == [{"file": "x.csv", "line": 2, "message": "“bad” is not an e-mail address."}]


def test_a_key_without_users_create_may_not_import(acme, acme_admin):
    api = bearer(issue(acme_admin, scopes={"users": ["view"]})[1])
    response = api.post("/api/v1/imports", _body(True, "portcullis.json"), content_type="application/json")
    assert response.status_code == 403


def test_an_import_never_touches_another_tenant(acme, acme_admin, globex, globex_admin):
    UserFactory(tenant=globex, email="shared@globex.example", full_name="Globex Person")
    with tenant_scope(globex):
        organisation_services.create_organisation(actor=None, tenant=globex, name="Globex Sales")
    text = (
        "record,email,full_name,role,organisation\n"
        "user,shared@globex.example,Acme Person,Basic user,\n"
        "user,other@acme.example,,Basic user,Globex Sales\n"
        "grant,admin@globex.example,,,,\n"
    )
    report = run(acme, acme_admin, [Upload("x.csv", text)], "portcullis")
    assert problems(report) == [("x.csv", 3), ("x.csv", 4)]  # foreign organisation, foreign user: not found
    text = "record,email,full_name,role\nuser,shared@globex.example,Acme Person,Basic user\n"
    report = run(acme, acme_admin, [Upload("x.csv", text)], "portcullis")
    assert report.applied
    with tenant_scope(globex):
        shared = User.objects.get(email="shared@globex.example")
        assert (shared.full_name, shared.is_active) == ("Globex Person", True)  # untouched
        assert list(Organisation.objects.values_list("name", flat=True)) == ["Globex Sales"]
    assert state(acme)["users"] == {"shared@globex.example": ("Acme Person", "Basic user", "", False)}
