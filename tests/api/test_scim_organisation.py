"""SCIM's enterprise extension ``organization`` (issue 16): it sets the user's organisation in POST, PUT and
PATCH (the path and the value forms) through the console's membership service (audited, its gates) and is
returned in GET; it names an organisation of the tenant by name, else by external id; anything else — an
unknown name, another tenant's organisation — is a 400 invalidValue that changes nothing."""

import pytest

from accounts.models import User
from accounts.scoping import tenant_scope
from audit.models import AuditEvent
from permissions.models import Module, SharingRule
from permissions.services import organisations as orgs
from permissions.services import sharing_rules, sod_rules
from permissions.services.errors import AccessRefused, ErrorCode
from permissions.versioning import stored_version
from permissions.vocabulary import Action
from tests.api.scimkit import USER, error_of, patch_body, send
from tests.factories import UserFactory
from tests.sodkit import give

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
ORGANIZATION = f"{ENTERPRISE}:organization"


@pytest.fixture
def companies(acme, acme_admin, globex, globex_admin):
    """Acme's Initech (INI) and Umbrella (UMB); Globex's Hooli (HOO), which Acme's SCIM must never reach."""
    with tenant_scope(acme):
        initech = orgs.create_organisation(actor=acme_admin, tenant=acme, name="Initech", external_id="INI")
        umbrella = orgs.create_organisation(actor=acme_admin, tenant=acme, name="Umbrella", external_id="UMB")
    with tenant_scope(globex):
        hooli = orgs.create_organisation(actor=globex_admin, tenant=globex, name="Hooli", external_id="HOO")
    return {"initech": initech, "umbrella": umbrella, "hooli": hooli}


@pytest.fixture
def person(acme, companies):
    return UserFactory(tenant=acme, email="pat@acme.example", full_name="Pat Doe")


def _body(email="new@acme.example", **extension) -> dict:
    body = {"schemas": [USER], "userName": email, "active": True}
    if extension:
        body["schemas"].append(ENTERPRISE)
        body[ENTERPRISE] = extension
    return body


def _trail(tenant) -> tuple[int, object]:
    with tenant_scope(tenant):
        return AuditEvent.objects.count(), stored_version(tenant.pk)


def _organisation_of(user) -> int | None:
    return User.objects.dangerously_all_tenants().get(pk=user.pk if hasattr(user, "pk") else user).organisation_id


def _membership_events(tenant, user_id) -> list[AuditEvent]:
    with tenant_scope(tenant):
        return list(AuditEvent.objects.filter(event_type="user.organisation_changed", target_id=str(user_id)))


def test_post_by_name_sets_the_organisation_through_the_audited_service(scim, acme, acme_admin, companies):
    response = send(scim, "post", "/scim/v2/Users", _body(organization="Initech", department="Sales"))
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["schemas"] == [USER, ENTERPRISE]
    assert created[ENTERPRISE] == {"organization": "Initech"}  # department is accepted, not kept
    assert _organisation_of(int(created["id"])) == companies["initech"].pk
    [event] = _membership_events(acme, created["id"])
    assert event.actor == acme_admin and event.reason == "SCIM"
    assert event.after == {"organisation": companies["initech"].pk}
    assert scim.get(f"/scim/v2/Users/{created['id']}").json()[ENTERPRISE] == {"organization": "Initech"}


def test_post_by_external_id_and_get_returns_the_name(scim, companies):
    created = send(scim, "post", "/scim/v2/Users", _body(organization="UMB")).json()
    assert created[ENTERPRISE] == {"organization": "Umbrella"}
    assert _organisation_of(int(created["id"])) == companies["umbrella"].pk


def test_a_name_wins_over_another_organisations_external_id(scim, acme, acme_admin, companies):
    with tenant_scope(acme):
        orgs.create_organisation(actor=acme_admin, tenant=acme, name="Cyberdyne", external_id="Initech")
    created = send(scim, "post", "/scim/v2/Users", _body(organization="Initech")).json()
    assert _organisation_of(int(created["id"])) == companies["initech"].pk


def test_a_user_without_an_organisation_has_no_extension(scim, person):
    body = scim.get(f"/scim/v2/Users/{person.pk}").json()
    assert body["schemas"] == [USER] and ENTERPRISE not in body


@pytest.mark.parametrize("value", ["Nakatomi", "initech", "Hooli", "HOO", 7, ["Initech"], {"name": "Initech"}])
def test_post_naming_no_organisation_of_the_tenant_is_refused_and_creates_nobody(scim, acme, companies, value):
    before = _trail(acme)
    error_of(send(scim, "post", "/scim/v2/Users", _body(organization=value)), 400, "invalidValue")
    assert _trail(acme) == before
    assert not User.objects.dangerously_all_tenants().filter(email="new@acme.example").exists()


@pytest.mark.parametrize("method", ["put", "patch"])
@pytest.mark.parametrize("value", ["Hooli", "HOO", "Nakatomi"])
def test_a_foreign_or_unknown_organisation_never_matches_in_put_or_patch(scim, acme, person, companies, method, value):
    before = _trail(acme)
    url = f"/scim/v2/Users/{person.pk}"
    if method == "put":
        body = {**_body(person.email, organization=value), "displayName": "Changed too"}
    else:
        body = patch_body(
            {"op": "replace", "path": "displayName", "value": "Changed too"},
            {"op": "replace", "path": ORGANIZATION, "value": value},
        )
    error_of(send(scim, method, url, body), 400, "invalidValue")
    assert _trail(acme) == before  # nothing of the request was applied, the name neither
    person.refresh_from_db()
    assert person.full_name == "Pat Doe" and _organisation_of(person) is None


def test_put_sets_keeps_and_clears_the_organisation(scim, acme, person, companies):
    url = f"/scim/v2/Users/{person.pk}"
    response = send(scim, "put", url, _body(person.email, organization="Initech"))
    assert response.status_code == 200 and response.json()[ENTERPRISE] == {"organization": "Initech"}
    # Not sent (no extension, or the extension without it): not asserted, the organisation stays.
    before = _trail(acme)
    assert ENTERPRISE in send(scim, "put", url, _body(person.email)).json()
    assert ENTERPRISE in send(scim, "put", url, _body(person.email, department="Sales")).json()
    assert _trail(acme) == before and _organisation_of(person) == companies["initech"].pk
    # The same organisation by its external id: no change, nothing written.
    send(scim, "put", url, _body(person.email, organization="INI"))
    assert _trail(acme) == before
    # null takes the user out of it.
    response = send(scim, "put", url, _body(person.email, organization=None))
    assert response.status_code == 200 and ENTERPRISE not in response.json()
    assert _organisation_of(person) is None
    assert [e.after for e in _membership_events(acme, person.pk)] == [
        {"organisation": companies["initech"].pk},
        {"organisation": None},
    ]


@pytest.mark.parametrize(
    "operation",
    [
        {"op": "replace", "path": ORGANIZATION, "value": "Umbrella"},
        {"op": "add", "path": ORGANIZATION, "value": "UMB"},
        {"op": "Replace", "path": ORGANIZATION.upper().replace("URN:", "urn:"), "value": "Umbrella"},
        {"op": "replace", "value": {ENTERPRISE: {"organization": "Umbrella", "department": "Sales"}}},
        {"op": "add", "value": {ORGANIZATION: "UMB"}},
        {"op": "replace", "path": ENTERPRISE, "value": {"organization": "Umbrella", "department": "Sales"}},
        {"op": "add", "path": ENTERPRISE.lower(), "value": {"Organization": "UMB"}},
    ],
)
def test_patch_every_form_moves_the_user(scim, acme, person, companies, operation):
    with tenant_scope(acme):
        orgs.set_user_organisation(person, companies["initech"], actor=None)
    response = send(scim, "patch", f"/scim/v2/Users/{person.pk}", patch_body(operation))
    assert response.status_code == 200, response.content
    assert response.json()[ENTERPRISE] == {"organization": "Umbrella"}
    assert _organisation_of(person) == companies["umbrella"].pk
    assert _membership_events(acme, person.pk)[-1].reason == "SCIM"


@pytest.mark.parametrize(
    "operation",
    [
        {"op": "remove", "path": ORGANIZATION},
        {"op": "replace", "path": ORGANIZATION, "value": ""},
        {"op": "replace", "path": ORGANIZATION, "value": None},
        {"op": "replace", "value": {ENTERPRISE: {"organization": None}}},
        {"op": "remove", "path": ENTERPRISE},
    ],
)
def test_patch_removing_it_takes_the_user_out(scim, acme, person, companies, operation):
    with tenant_scope(acme):
        orgs.set_user_organisation(person, companies["initech"], actor=None)
    response = send(scim, "patch", f"/scim/v2/Users/{person.pk}", patch_body(operation))
    assert response.status_code == 200 and ENTERPRISE not in response.json()
    assert _organisation_of(person) is None


def test_a_patch_that_changes_nothing_writes_nothing(scim, acme, person, companies):
    with tenant_scope(acme):
        orgs.set_user_organisation(person, companies["initech"], actor=None)
    before = _trail(acme)
    url = f"/scim/v2/Users/{person.pk}"
    for operation in (
        {"op": "replace", "path": ORGANIZATION, "value": "Initech"},
        {"op": "replace", "path": ORGANIZATION, "value": "INI"},
        {"op": "replace", "path": f"{ENTERPRISE}:department", "value": "Sales"},
        {"op": "replace", "value": {ENTERPRISE: {"employeeNumber": "7"}}},
    ):
        assert send(scim, "patch", url, patch_body(operation)).status_code == 200
    assert _trail(acme) == before


@pytest.mark.parametrize(
    ("operation", "scim_type"),
    [
        ({"op": "replace", "path": f"{ORGANIZATION}.name", "value": "Initech"}, "invalidPath"),
        ({"op": "replace", "path": f'{ORGANIZATION}[value eq "x"]', "value": "Initech"}, "invalidPath"),
        ({"op": "replace", "value": {ENTERPRISE: "Initech"}}, "invalidValue"),
        ({"op": "replace", "path": ENTERPRISE, "value": "Initech"}, "invalidValue"),
        ({"op": "replace", "path": ORGANIZATION, "value": 5}, "invalidValue"),
    ],
)
def test_malformed_organisation_patches_are_refused(scim, acme, person, companies, operation, scim_type):
    before = _trail(acme)
    error_of(send(scim, "patch", f"/scim/v2/Users/{person.pk}", patch_body(operation)), 400, scim_type)
    assert _trail(acme) == before


def test_attributes_can_ask_for_the_organisation_alone(scim, acme, person, companies):
    with tenant_scope(acme):
        orgs.set_user_organisation(person, companies["initech"], actor=None)
    body = scim.get(f"/scim/v2/Users/{person.pk}?attributes={ORGANIZATION}").json()
    assert set(body) == {"schemas", "id", ENTERPRISE} and body[ENTERPRISE] == {"organization": "Initech"}
    body = scim.get(f"/scim/v2/Users/{person.pk}?excludedAttributes={ORGANIZATION}").json()
    assert body[ENTERPRISE] == {} and body["userName"] == "pat@acme.example"


def test_the_extension_is_advertised(scim, companies):
    schema = scim.get(f"/scim/v2/Schemas/{ENTERPRISE}").json()
    assert [a["name"] for a in schema["attributes"]] == ["organization"]
    assert schema["attributes"][0]["type"] == "string" and schema["attributes"][0]["mutability"] == "readWrite"
    assert schema["attributes"][0]["canonicalValues"] == ["Initech", "Umbrella"]  # never Globex's Hooli
    assert ENTERPRISE in {s["id"] for s in scim.get("/scim/v2/Schemas").json()["Resources"]}
    user_type = scim.get("/scim/v2/ResourceTypes/User").json()
    assert user_type["schemaExtensions"] == [{"schema": ENTERPRISE, "required": False}]


@pytest.fixture
def export_vs_change(acme, acme_admin, companies):
    """A separation-of-duties rule (reports: export never with products: change) and a sharing rule letting
    Initech's members export their organisation's reports: joining Initech gives reports: export."""
    with tenant_scope(acme):
        reports, products = Module.objects.get(key="reports"), Module.objects.get(key="products")
        rule = sod_rules.create_rule(
            actor=acme_admin,
            tenant=acme,
            name="Export or maintain",
            reason="whoever maintains products must not export reports",
            first_module=reports,
            first_actions=["export"],
            second_module=products,
            second_actions=["change"],
        )
        sharing = sharing_rules.build_rule(
            tenant=acme,
            name="Members export their reports",
            kind=SharingRule.Kind.OWN,
            module=reports,
            actions=[Action.VIEW, Action.EXPORT],
            reason="customers",
        )
        sharing_rules.create_rule(sharing, actor=acme_admin)
    return rule, products


def test_joining_through_scim_passes_the_separation_of_duties_gate(scim, acme, person, companies, export_vs_change):
    rule, products = export_vs_change
    give(acme, person, products, ["change"])
    before = _trail(acme)
    response = send(
        scim,
        "patch",
        f"/scim/v2/Users/{person.pk}",
        patch_body({"op": "replace", "path": ORGANIZATION, "value": "Initech"}),
    )
    assert response.status_code == 403 and rule.name in response.json()["detail"]
    response = send(scim, "post", "/scim/v2/Users", {**_body(organization="Initech")})
    assert response.status_code == 201  # a new user holds no products: change
    assert _trail(acme) != before
    before = _trail(acme)
    assert _organisation_of(person) is None
    # The console's path is the same service, refused the same way; a user without the other side joins.
    with tenant_scope(acme), pytest.raises(AccessRefused) as refused:
        orgs.set_user_organisation(person, companies["initech"], actor=None)
    assert refused.value.code == ErrorCode.SOD_CONFLICT and rule.name in str(refused.value)
    assert _trail(acme) == before


def test_a_suspended_organisation_gives_nothing_so_joining_it_passes(
    scim, acme, acme_admin, person, companies, export_vs_change
):
    _rule, products = export_vs_change
    give(acme, person, products, ["change"])
    with tenant_scope(acme):
        orgs.set_organisation_status(companies["initech"], actor=acme_admin, status="suspended")
    response = send(
        scim,
        "patch",
        f"/scim/v2/Users/{person.pk}",
        patch_body({"op": "replace", "path": ORGANIZATION, "value": "Initech"}),
    )
    assert response.status_code == 200 and _organisation_of(person) == companies["initech"].pk
