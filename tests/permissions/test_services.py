"""Permission services: separation of duties and escalation (AZ-6), other tenants' objects (AZ-2),
one audit event per change, previews."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from accounts.scoping import tenant_scope
from audit.events import EventType
from audit.models import AuditEvent
from permissions import engine
from permissions.models import BuiltinRole, Grant, PendingChange, ResourceUserPermission, Role
from permissions.services import changes, grants, groups, modules, preview, roles
from permissions.services.errors import AccessRefused, ErrorCode
from permissions.vocabulary import Action
from tests.factories import builtin_role
from tests.permissions.conftest import add_to_group, module

A = Action


def events(tenant, event_type):
    return list(AuditEvent.objects.dangerously_all_tenants().filter(tenant=tenant, event_type=event_type))


def refused(code, call, *args, **kwargs):
    with pytest.raises(AccessRefused) as caught:
        call(*args, **kwargs)
    assert caught.value.code == code, caught.value.code
    return caught.value


def test_grant_is_audited_and_stored_with_guardian_rows(in_acme, acme_admin, acme_customer, reports, report):
    grant = grants.grant(
        actor=acme_admin,
        module=reports,
        resource=report,
        user=acme_customer,
        actions=[A.VIEW, A.EXPORT],
        reason="quarterly review pack",
    )
    assert isinstance(grant, Grant) and grant.granted_by == acme_admin
    rows = ResourceUserPermission.objects.filter(grant=grant)
    assert sorted(r.permission.codename for r in rows) == ["export_resource", "view_resource"]
    [event] = events(in_acme, EventType.GRANT_CREATED)
    assert event.actor == acme_admin and event.reason == "quarterly review pack"
    assert event.after["actions"] == ["view", "export"]


def test_az6_nobody_grants_themselves(in_acme, acme_admin, reports, customer_company):
    refused(
        ErrorCode.SELF_GRANT,
        grants.grant,
        actor=acme_admin,
        module=reports,
        user=acme_admin,
        actions=[A.VIEW],
        reason="me",
    )
    add_to_group(customer_company, acme_admin)
    refused(
        ErrorCode.SELF_GRANT,
        grants.grant,
        actor=acme_admin,
        module=reports,
        group=customer_company,
        actions=[A.VIEW],
        reason="my group",
    )
    refused(ErrorCode.SELF_GRANT, groups.add_member, customer_company, acme_admin, actor=acme_admin)


def test_az6_nobody_grants_more_than_they_hold(in_acme, acme_advanced, acme_customer, reports, report):
    # An advanced user who may manage grants still cannot give "change", which they do not hold.
    roles_advanced = Role.objects.get(key="advanced")
    roles.apply_matrix(roles_advanced, {**roles.matrix_of(roles_advanced), "grants": A.CREATE.bit}, actor=None)
    error = refused(
        ErrorCode.OUT_OF_SCOPE,
        grants.grant,
        actor=acme_advanced,
        module=reports,
        resource=report,
        user=acme_customer,
        actions=[A.VIEW, A.CHANGE],
        reason="x",
    )
    assert error.missing == [A.CHANGE]
    ok = grants.grant(
        actor=acme_advanced, module=reports, resource=report, user=acme_customer, actions=[A.VIEW], reason="x"
    )
    assert engine.can(acme_customer, A.VIEW, report) and ok.pk


def test_grants_need_the_grants_module(in_acme, acme_basic, acme_customer, products):
    refused(
        ErrorCode.NOT_ALLOWED,
        grants.grant,
        actor=acme_basic,
        module=products,
        user=acme_customer,
        actions=[A.VIEW],
        reason="x",
    )


def test_grants_need_a_reason_and_a_future_expiry(in_acme, acme_admin, acme_customer, reports):
    refused(
        ErrorCode.INVALID,
        grants.grant,
        actor=acme_admin,
        module=reports,
        user=acme_customer,
        actions=[A.VIEW],
        reason="  ",
    )
    refused(
        ErrorCode.INVALID,
        grants.grant,
        actor=acme_admin,
        module=reports,
        user=acme_customer,
        actions=[A.VIEW],
        reason="x",
        expires_at=timezone.now() - timedelta(seconds=1),
    )
    refused(
        ErrorCode.INVALID,
        grants.grant,
        actor=acme_admin,
        module=reports,
        user=acme_customer,
        actions=[A.APPROVE],
        reason="x",
    )


def test_az2_objects_of_another_tenant_are_refused(
    acme, globex, acme_admin, acme_customer, globex_admin, globex_report, reports
):
    with tenant_scope(acme):
        refused(
            ErrorCode.CROSS_TENANT,
            grants.grant,
            actor=acme_admin,
            module=reports,
            user=globex_admin,
            actions=[A.VIEW],
            reason="x",
        )
        refused(
            ErrorCode.CROSS_TENANT,
            grants.grant,
            actor=acme_admin,
            module=reports,
            resource=globex_report,
            user=acme_customer,
            actions=[A.VIEW],
            reason="x",
        )
        refused(
            ErrorCode.CROSS_TENANT,
            roles.change_user_role,
            acme_customer,
            builtin_role(globex, "advanced"),
            actor=acme_admin,
        )
        refused(
            ErrorCode.CROSS_TENANT,
            roles.change_user_role,
            globex_admin,
            builtin_role(acme, "advanced"),
            actor=acme_admin,
        )
    with tenant_scope(globex):
        group = groups.create_group(actor=globex_admin, tenant=globex, name="Globex partners")
    with tenant_scope(acme):
        refused(ErrorCode.CROSS_TENANT, groups.add_member, group, acme_customer, actor=acme_admin)
        refused(
            ErrorCode.CROSS_TENANT,
            grants.grant,
            actor=acme_admin,
            module=reports,
            group=group,
            actions=[A.VIEW],
            reason="x",
        )


def test_az6_system_module_grant_waits_for_a_second_administrator(
    in_acme, acme_admin, acme_admin2, acme_customer, acme_basic
):
    users = module(in_acme, "users")
    change = grants.grant(actor=acme_admin, module=users, user=acme_customer, actions=[A.VIEW], reason="helpdesk")
    assert isinstance(change, PendingChange) and change.status == PendingChange.Status.PENDING
    assert not engine.can(acme_customer, A.VIEW, "users")
    refused(ErrorCode.SELF_APPROVAL, changes.approve_change, change, actor=acme_admin)
    refused(ErrorCode.SELF_APPROVAL, changes.approve_change, change, actor=acme_customer)
    refused(ErrorCode.NOT_ALLOWED, changes.approve_change, change, actor=acme_basic)
    grant = changes.approve_change(change, actor=acme_admin2)
    assert isinstance(grant, Grant) and engine.can(acme_customer, A.VIEW, "users")
    change.refresh_from_db()
    assert change.status == PendingChange.Status.APPROVED and change.decided_by == acme_admin2
    assert len(events(in_acme, EventType.CHANGE_REQUESTED)) == 1
    assert len(events(in_acme, EventType.CHANGE_APPROVED)) == 1
    assert events(in_acme, EventType.GRANT_CREATED)[0].after["approved_by"] == acme_admin2.email
    refused(ErrorCode.ALREADY_DECIDED, changes.approve_change, change, actor=acme_admin2)


def test_rejecting_with_a_copy_loaded_before_the_approval_is_refused(in_acme, acme_admin, acme_admin2, acme_customer):
    """reject_change decides on the locked row, not the caller's copy: a copy loaded while the change was
    pending cannot mark an approved change rejected while its grant stays live."""
    change = grants.grant(
        actor=acme_admin, module=module(in_acme, "users"), user=acme_customer, actions=[A.VIEW], reason="helpdesk"
    )
    stale = PendingChange.objects.get(pk=change.pk)  # e.g. the approval queue page, loaded earlier
    changes.approve_change(change, actor=acme_admin2)
    refused(ErrorCode.ALREADY_DECIDED, changes.reject_change, stale, actor=acme_admin, reason="withdrawn")
    refused(ErrorCode.ALREADY_DECIDED, changes.reject_change, stale, actor=acme_admin2, reason="no")
    stale.refresh_from_db()
    assert stale.status == PendingChange.Status.APPROVED and stale.decided_by == acme_admin2
    assert engine.can(acme_customer, A.VIEW, "users")
    assert events(in_acme, EventType.CHANGE_REJECTED) == []


def test_revoking_with_a_stale_copy_records_the_revocation_once(in_acme, acme_admin, acme_admin2, acme_customer):
    """revoke decides on the locked row: a second revocation through a copy loaded earlier changes nothing."""
    grant = grants.grant(
        actor=acme_admin, module=module(in_acme, "reports"), user=acme_customer, actions=[A.VIEW], reason="project"
    )
    stale = Grant.objects.get(pk=grant.pk)
    grants.revoke(grant, actor=acme_admin, reason="left the project")
    first = Grant.objects.get(pk=grant.pk).revoked_at
    grants.revoke(stale, actor=acme_admin2, reason="again")
    again = Grant.objects.get(pk=grant.pk)
    assert again.revoked_at == first and again.revoked_by == acme_admin
    assert len(events(in_acme, EventType.GRANT_REVOKED)) == 1


def test_az6_making_an_administrator_needs_approval(in_acme, acme_admin, acme_admin2, acme_customer):
    administrator = Role.objects.get(key=BuiltinRole.ADMINISTRATOR)
    change = roles.change_user_role(acme_customer, administrator, actor=acme_admin, reason="new IT lead")
    assert isinstance(change, PendingChange)
    acme_customer.refresh_from_db()
    assert acme_customer.role.key == "basic"
    refused(ErrorCode.SELF_APPROVAL, changes.approve_change, change, actor=acme_admin)
    changes.approve_change(change, actor=acme_admin2)
    acme_customer.refresh_from_db()
    assert acme_customer.role == administrator and engine.can(acme_customer, A.VIEW, "roles")


def test_az6_the_subject_cannot_approve_their_own_promotion(in_acme, acme_admin, acme_admin2):
    advanced = Role.objects.get(key="advanced")
    roles.apply_role_change(acme_admin2, advanced, actor=None)
    # acme_admin2 is no longer an administrator; make a third administrator request admin2's promotion back.
    change = roles.change_user_role(acme_admin2, Role.objects.get(key="administrator"), actor=acme_admin)
    refused(ErrorCode.SELF_APPROVAL, changes.approve_change, change, actor=acme_admin2)


def test_az6_nobody_changes_their_own_role(in_acme, acme_admin):
    """AZ-6 and AZ-4 (a role on self is refused): nobody changes their own role or its matrix."""
    refused(ErrorCode.SELF_ROLE, roles.change_user_role, acme_admin, Role.objects.get(key="basic"), actor=acme_admin)
    refused(ErrorCode.SELF_ROLE, roles.set_role_matrix, acme_admin.role, {"products": [A.VIEW]}, actor=acme_admin)


def test_role_lifecycle(in_acme, acme_admin, acme_admin2, acme_customer):
    basic = Role.objects.get(key="basic")
    role = roles.clone_role(basic, actor=acme_admin, name="Partner")
    assert roles.matrix_of(role) == {"products": A.VIEW.bit}
    roles.rename_role(role, actor=acme_admin, name="Channel partner")
    refused(ErrorCode.BUILTIN, roles.rename_role, basic, actor=acme_admin, name="x")
    result = roles.set_role_matrix(role, {"products": [A.VIEW, A.EXPORT], "reports": [A.VIEW]}, actor=acme_admin)
    assert result == role and roles.matrix_of(role)["reports"] == A.VIEW.bit
    roles.change_user_role(acme_customer, role, actor=acme_admin)
    assert engine.can(acme_customer, A.VIEW, "reports")
    refused(ErrorCode.ROLE_IN_USE, roles.delete_role, role, actor=acme_admin)
    # System-module actions in a matrix wait for approval.
    pending = roles.set_role_matrix(role, {"products": [A.VIEW], "audit": [A.VIEW]}, actor=acme_admin)
    assert isinstance(pending, PendingChange) and not engine.can(acme_customer, A.VIEW, "audit")
    changes.approve_change(pending, actor=acme_admin2)
    assert engine.can(acme_customer, A.VIEW, "audit") and not engine.can(acme_customer, A.VIEW, "reports")
    roles.change_user_role(acme_customer, basic, actor=acme_admin)
    roles.delete_role(role, actor=acme_admin)
    assert not Role.objects.filter(pk=role.pk).exists()
    assert len(events(in_acme, EventType.ROLE_DELETED)) == 1
    administrator = Role.objects.get(key="administrator")
    refused(ErrorCode.SELF_ROLE, roles.set_role_matrix, administrator, {}, actor=acme_admin2)
    refused(ErrorCode.BUILTIN, roles.set_role_matrix, administrator, {}, actor=None)


def test_expire_due_grants_records_each_once(acme, acme_admin, acme_customer, reports, report):
    expires = timezone.now() + timedelta(days=1)
    with tenant_scope(acme):
        grant = grants.grant(
            actor=acme_admin,
            module=reports,
            resource=report,
            user=acme_customer,
            actions=[A.VIEW],
            reason="trial",
            expires_at=expires,
        )
    assert grants.expire_due_grants() == 0
    with time_machine.travel(expires + timedelta(minutes=5), tick=False):
        assert grants.expire_due_grants() == 1
        assert grants.expire_due_grants() == 0
    [event] = events(acme, EventType.GRANT_EXPIRED)
    assert event.target_id == str(grant.pk) and event.actor is None
    with tenant_scope(acme):
        assert not ResourceUserPermission.objects.filter(grant=grant).exists()


def test_expire_due_grants_throws_away_only_the_cached_sets_of_tenants_whose_grants_expired(
    acme, globex, acme_admin, acme_customer, globex_admin, reports, report
):
    """The job runs tenant after tenant (acme sorts first): globex, where nothing expired, keeps its cached
    permission sets; acme's are rebuilt."""
    expires = timezone.now() + timedelta(days=1)
    with tenant_scope(acme):
        grants.grant(
            actor=acme_admin, module=reports, user=acme_customer, actions=[A.VIEW], reason="trial", expires_at=expires
        )
    with time_machine.travel(expires + timedelta(minutes=5), tick=False):
        acme_set, globex_set = engine.compiled_for(acme_admin), engine.compiled_for(globex_admin)
        assert engine.compiled_for(globex_admin) is globex_set  # cached while nothing changes
        assert grants.expire_due_grants() == 1
        assert engine.compiled_for(acme_admin) is not acme_set
        assert engine.compiled_for(globex_admin) is globex_set


def test_custom_modules_and_resources(in_acme, acme_admin, acme_basic):
    """Custom modules and resources; AZ-4: a resource's owner, module and tenant are not set through updates."""
    contracts = modules.create_module(
        actor=acme_admin,
        tenant=in_acme,
        name="Contracts",
        actions=[A.VIEW, A.CREATE, A.CHANGE, A.VIEW_SENSITIVE],
        sensitive_attributes=["value"],
    )
    assert contracts.key == "contracts" and contracts.kind == "custom"
    refused(ErrorCode.NOT_ALLOWED, modules.create_module, actor=acme_basic, tenant=in_acme, name="Other")
    # The built-in Administrator role holds every applicable action of a new module (nobody else does).
    refused(ErrorCode.NOT_ALLOWED, modules.create_resource, actor=acme_basic, module=contracts, title="MSA")
    resource = modules.create_resource(actor=acme_admin, module=contracts, title="MSA", attributes={"value": 10})
    refused(ErrorCode.NOT_ALLOWED, modules.update_resource, resource, actor=acme_basic, title="x")
    products = module(in_acme, "products")
    item = modules.create_resource(
        actor=acme_admin, module=products, title="X-200", external_id="X-200", attributes={"cost_price": 12}
    )
    refused(
        ErrorCode.INVALID,
        modules.create_resource,
        actor=acme_admin,
        module=products,
        title="again",
        external_id="X-200",
    )
    refused(ErrorCode.INVALID, modules.update_resource, item, actor=acme_admin, owner=acme_admin)
    modules.update_resource(item, actor=acme_admin, attributes={"cost_price": 13})
    [event] = events(in_acme, EventType.RESOURCE_CHANGED)
    assert event.after == {"attributes": {"cost_price": "••••"}}


def test_preview_of_a_matrix_change_names_gains_and_losses(in_acme, acme_admin, acme_advanced, acme_customer, reports):
    advanced = Role.objects.get(key="advanced")
    grants.grant(actor=acme_admin, module=reports, user=acme_advanced, actions=[A.EXPORT], reason="keeps it")
    impact = preview.preview_role_matrix(advanced, {"products": [A.VIEW, A.CHANGE], "reports": [A.VIEW]})
    assert impact.gaining_users == 1 and impact.losing_users == 1
    gained = {(c.target, c.action) for c in impact.gained[acme_advanced]}
    lost = {(c.target, c.action) for c in impact.lost[acme_advanced]}
    assert gained == {("products", A.CHANGE)}
    assert ("reports", A.EXPORT) not in lost  # still held through the direct grant
    assert ("analytics", A.VIEW) in lost and ("products", A.EXPORT) in lost
    assert impact.names() == {"gain": [acme_advanced.email], "lose": [acme_advanced.email]}
    assert roles.matrix_of(advanced)["products"] == A.VIEW.bit | A.EXPORT.bit  # nothing applied


def test_preview_of_group_grants(in_acme, acme_admin, acme_customer, acme_advanced, reports, report, customer_company):
    add_to_group(customer_company, acme_customer)
    add_to_group(customer_company, acme_advanced)
    impact = preview.preview_group_grant(customer_company, reports, [A.VIEW], resource=report)
    assert list(impact.gained) == [acme_customer]  # the advanced user already views every report
    grant = grants.grant(
        actor=acme_admin, module=reports, resource=report, group=customer_company, actions=[A.VIEW], reason="x"
    )
    assert list(preview.preview_revoke(grant).lost) == [acme_customer]


def test_group_members_and_owners(in_acme, acme_admin, acme_customer, acme_basic, customer_company):
    groups.add_member(customer_company, acme_customer, actor=acme_admin)
    groups.set_owner(customer_company, acme_customer, actor=acme_admin)
    # An owner manages members of their group without the groups module...
    groups.add_member(customer_company, acme_basic, actor=acme_customer)
    groups.remove_member(customer_company, acme_basic, actor=acme_customer)
    # ...but cannot promote owners.
    refused(ErrorCode.NOT_ALLOWED, groups.set_owner, customer_company, acme_admin, actor=acme_customer)
    assert len(events(in_acme, EventType.GROUP_MEMBER_ADDED)) == 2
    assert len(events(in_acme, EventType.GROUP_MEMBER_REMOVED)) == 1


def test_expire_grants_command_runs_each_tenant_in_its_scope(acme, globex, acme_admin, acme_customer, reports, report):
    """AZ-7: the scheduler's command walks the tenants and works inside each one's scope."""
    from io import StringIO

    from django.core.management import call_command

    expires = timezone.now() + timedelta(hours=1)
    with tenant_scope(acme):
        grants.grant(
            actor=acme_admin,
            module=reports,
            resource=report,
            user=acme_customer,
            actions=[A.VIEW],
            reason="pilot",
            expires_at=expires,
        )
    output = StringIO()
    with time_machine.travel(expires + timedelta(seconds=1), tick=False):
        call_command("expire_grants", stdout=output)
    assert output.getvalue().strip() == "1 grant(s) recorded as expired"
    assert len(events(acme, EventType.GRANT_EXPIRED)) == 1 and not events(globex, EventType.GRANT_EXPIRED)
