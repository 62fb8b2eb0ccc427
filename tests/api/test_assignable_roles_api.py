"""The roles organisations may assign over the API (issue 16): the list filtered by
``organisation_assignable``, a change by PATCH through the audited service; a role with console rights is
refused, another tenant's role is a 404, a malformed filter a 400."""

from accounts.scoping import tenant_scope
from audit.models import AuditEvent
from tests.factories import builtin_role


def _keys(response) -> set[str]:
    assert response.status_code == 200, response.content[:300]
    body = response.json()
    rows = body["results"] if isinstance(body, dict) else body
    return {row["key"] for row in rows}


def test_the_list_filter_and_a_patch(api_acme, acme):
    advanced = builtin_role(acme, "advanced")
    assert _keys(api_acme.get("/api/v1/roles?organisation_assignable=true")) == set()
    response = api_acme.patch(
        f"/api/v1/roles/{advanced.pk}", {"organisation_assignable": True}, content_type="application/json"
    )
    assert response.status_code == 200 and response.json()["organisation_assignable"] is True
    assert _keys(api_acme.get("/api/v1/roles?organisation_assignable=true")) == {"advanced"}
    assert "advanced" not in _keys(api_acme.get("/api/v1/roles?organisation_assignable=false"))
    assert {"basic", "advanced", "administrator"} <= _keys(api_acme.get("/api/v1/roles"))
    with tenant_scope(acme):
        assert AuditEvent.objects.filter(event_type="role.organisation_assignable_changed").count() == 1


def test_refusals(api_acme, acme, globex):
    administrator, foreign = builtin_role(acme, "administrator"), builtin_role(globex, "advanced")
    body = {"organisation_assignable": True}
    response = api_acme.patch(f"/api/v1/roles/{administrator.pk}", body, content_type="application/json")
    assert response.status_code == 400
    assert api_acme.patch(f"/api/v1/roles/{foreign.pk}", body, content_type="application/json").status_code == 404
    assert api_acme.get("/api/v1/roles?organisation_assignable=yes").status_code == 400
    administrator.refresh_from_db()
    foreign.refresh_from_db()
    assert not administrator.organisation_assignable and not foreign.organisation_assignable
