"""Roles: the matrix editor previews who gains and who loses what and changes nothing before the
confirmation; escalations wait for a second administrator; nobody edits their own role or gives more
than they hold (AZ-6); create, clone, rename, delete; a constant number of queries on the list."""

from accounts.scoping import tenant_scope
from permissions.models import PendingChange, Role
from permissions.services import roles as role_services
from permissions.vocabulary import actions_of
from tests.console.conftest import messages_of, person, role_with
from tests.factories import UserFactory, builtin_role
from tests.querycount import assert_constant_queries


def matrix(role):
    with tenant_scope(role.tenant):
        return {key: sorted(a.value for a in actions_of(mask)) for key, mask in role_services.matrix_of(role).items()}


def cells(mapping):
    return {f"cell:{key}:{action}": "1" for key, actions in mapping.items() for action in actions}


ADVANCED = {key: ["export", "view"] for key in ("analytics", "products", "reports")}


def test_the_matrix_editor_previews_the_impact_then_applies_on_confirmation(admin_client_acme, acme):
    advanced = builtin_role(acme, "advanced")
    UserFactory(tenant=acme, email="avery@acme.example", role=advanced)
    UserFactory(tenant=acme, email="blake@acme.example", role=advanced)
    wanted = {**ADVANCED, "reports": ["view"], "products": ["change", "export", "view"]}
    url = f"/console/roles/{advanced.pk}/matrix/"
    assert admin_client_acme.get(url).status_code == 200
    response = admin_client_acme.post(url, {**cells(wanted), "step": "preview"})
    body = response.content.decode()
    assert response.status_code == 200 and 'data-testid="impact"' in body
    assert "2 users gain access" in body and "2 users lose access" in body
    assert "avery@acme.example" in body and "blake@acme.example" in body
    assert [(u.email, [(c.target, c.action.value) for c in changes]) for u, changes in response.context["lost"]] == [
        ("avery@acme.example", [("reports", "export")]),
        ("blake@acme.example", [("reports", "export")]),
    ]
    assert matrix(advanced) == ADVANCED  # nothing changed before the confirmation
    response = admin_client_acme.post(url, {**cells(wanted), "step": "confirm", "reason": "catalogue upkeep"})
    assert response.status_code == 302
    assert matrix(advanced) == {key: sorted(v) for key, v in wanted.items()}


def test_a_system_module_action_waits_for_a_second_administrator(admin_client_acme, acme):
    advanced = builtin_role(acme, "advanced")
    url = f"/console/roles/{advanced.pk}/matrix/"
    response = admin_client_acme.post(url, {**cells({**ADVANCED, "users": ["view"]}), "step": "confirm"}, follow=True)
    assert "waits for a second administrator" in " ".join(messages_of(response))
    assert matrix(advanced) == ADVANCED
    with tenant_scope(acme):
        change = PendingChange.objects.get(kind="matrix", status="pending")
    UserFactory(tenant=acme, email="avery@acme.example", role=advanced)
    body = admin_client_acme.get(f"/console/approvals/{change.pk}/").content.decode()
    assert "1 user gains access" in body and "avery@acme.example: Users · View" in body.replace("<strong>", "").replace(
        "</strong>", ""
    )


def test_az6_nobody_gives_a_role_more_than_they_hold(acme):
    manager_role = role_with(acme, "Role manager", {"roles": ["view", "change"], "products": ["view"]})
    _, client = person(acme, "rm@acme.example", manager_role)
    basic = builtin_role(acme, "basic")
    url = f"/console/roles/{basic.pk}/matrix/"
    response = client.post(url, {**cells({"products": ["view"], "reports": ["export"]}), "step": "preview"})
    assert "You cannot give permissions you do not hold yourself." in " ".join(messages_of(response))
    assert 'data-testid="impact"' not in response.content.decode()
    client.post(url, {**cells({"products": ["view"], "reports": ["export"]}), "step": "confirm", "reason": "x"})
    assert matrix(basic) == {"products": ["view"]}


def test_az6_nobody_edits_their_own_role(acme):
    manager_role = role_with(acme, "Role manager", {"roles": ["view", "change"], "products": ["view"]})
    _, client = person(acme, "rm@acme.example", manager_role)
    url = f"/console/roles/{manager_role.pk}/matrix/"
    response = client.post(url, {**cells({"products": ["view", "export"]}), "step": "confirm"}, follow=True)
    assert "Nobody can change their own role or its matrix." in " ".join(messages_of(response))
    assert matrix(manager_role) == {"products": ["view"], "roles": ["change", "view"]}
    assert not client.get(f"/console/roles/{manager_role.pk}/").context["buttons"]["matrix"]


def test_the_administrator_matrix_is_locked(admin_client_acme, acme):
    administrator = builtin_role(acme, "administrator")
    detail = admin_client_acme.get(f"/console/roles/{administrator.pk}/")
    assert not detail.context["buttons"]["matrix"] and detail.context["locked"]
    assert admin_client_acme.get(f"/console/roles/{administrator.pk}/matrix/").status_code == 302


def test_only_applicable_actions_count(admin_client_acme, acme):
    basic = builtin_role(acme, "basic")
    url = f"/console/roles/{basic.pk}/matrix/"
    admin_client_acme.post(url, {**cells({"products": ["view"], "audit": ["delete"]}), "step": "confirm"})
    assert matrix(basic) == {"products": ["view"]}  # audit: delete does not apply, so it is no cell


def test_create_clone_rename_and_delete_a_role(admin_client_acme, acme):
    response = admin_client_acme.post("/console/roles/new/", {"name": "Auditor"})
    with tenant_scope(acme):
        auditor = Role.objects.get(name="Auditor")
    assert response["Location"] == f"/console/roles/{auditor.pk}/matrix/"
    admin_client_acme.post(f"/console/roles/{builtin_role(acme, 'advanced').pk}/clone/", {"name": "Partner"})
    with tenant_scope(acme):
        partner = Role.objects.get(name="Partner")
    assert matrix(partner) == ADVANCED
    admin_client_acme.post(f"/console/roles/{partner.pk}/rename/", {"name": "Partner plus"})
    partner.refresh_from_db()
    assert partner.name == "Partner plus"
    UserFactory(tenant=acme, email="holder@acme.example", role=partner)
    response = admin_client_acme.post(f"/console/roles/{partner.pk}/delete/", follow=True)
    assert "The role is still held by someone." in " ".join(messages_of(response))
    admin_client_acme.post(f"/console/roles/{auditor.pk}/delete/")
    with tenant_scope(acme):
        assert not Role.objects.filter(name="Auditor").exists() and Role.objects.filter(pk=partner.pk).exists()


def test_built_in_roles_cannot_be_renamed_or_deleted(admin_client_acme, acme):
    basic = builtin_role(acme, "basic")
    buttons = admin_client_acme.get(f"/console/roles/{basic.pk}/").context["buttons"]
    assert not buttons["rename"] and not buttons["delete"]
    response = admin_client_acme.post(f"/console/roles/{basic.pk}/rename/", {"name": "Peasant"}, follow=True)
    assert "Built-in roles cannot be changed this way." in " ".join(messages_of(response))


def test_role_list_shows_holder_counts_with_constant_queries(admin_client_acme, acme):
    response = admin_client_acme.get("/console/roles/")
    counts = {role.key: role.holder_count for role in response.context["page"].object_list}
    assert counts["administrator"] == 1

    def grow():
        for n in range(12):
            role = role_with(acme, f"Custom {n}", {"products": ["view"]})
            UserFactory(tenant=acme, email=f"h{n}@acme.example", role=role)

    assert_constant_queries(admin_client_acme, "/console/roles/", grow)
