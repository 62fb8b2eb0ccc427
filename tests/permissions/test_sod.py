"""Separation-of-duties rules (issue 17): every path that gives access goes through the one check, which
refuses a new violation naming the rule (or, when the rule allows exceptions, asks for a justification and
a second administrator); the detective side lists what exists; each change is audited; tenants are apart."""

import pytest
from django.db.models import Max

from accessrequests import services as request_services
from accessrequests.errors import RequestRefused
from accounts.scoping import tenant_scope
from audit.models import AuditEvent
from permissions import engine, sod
from permissions.models import Grant, GroupMembership, PendingChange, SodException, SodRule
from permissions.services import changes, gates, sod_rules
from permissions.services import grants as grant_services
from permissions.services import groups as group_services
from permissions.services import roles as role_services
from permissions.services.errors import AccessRefused, ErrorCode
from permissions.vocabulary import BITS
from tests.permissions.conftest import module
from tests.sodkit import give, make_payments, no_self_approval_rule


@pytest.fixture
def payments(acme):
    return make_payments(acme)


@pytest.fixture
def no_self_approval(acme, acme_admin, payments):
    return no_self_approval_rule(acme, acme_admin, payments)


@pytest.fixture
def export_delete(acme, acme_admin):
    """Reports: export with reports: delete, exceptions allowed."""
    with tenant_scope(acme):
        return sod_rules.create_rule(
            actor=acme_admin,
            tenant=acme,
            name="Export or delete",
            reason="whoever exports reports must not erase them",
            severity="medium",
            allow_exceptions=True,
            first_module=module(acme, "reports"),
            first_actions=["export"],
            second_module=module(acme, "reports"),
            second_actions=["delete"],
        )


def last_event_id():
    return AuditEvent.objects.dangerously_all_tenants().aggregate(m=Max("id"))["m"]


def refused_naming(rule, call):
    """``call`` is refused with SOD_CONFLICT naming ``rule``, and writes nothing (no grant, no event)."""
    grants, events = Grant.objects.dangerously_all_tenants().count(), last_event_id()
    with pytest.raises(AccessRefused) as refusal:
        call()
    assert refusal.value.code == ErrorCode.SOD_CONFLICT
    assert rule.name in str(refusal.value) and rule.reason in str(refusal.value)
    assert Grant.objects.dangerously_all_tenants().count() == grants
    assert last_event_id() == events
    return refusal.value


# --- preventive: every path -------------------------------------------------------------------------------


def test_direct_grant_creating_a_violation_is_refused_naming_the_rule(
    acme, acme_admin, acme_customer, payments, no_self_approval
):
    give(acme, acme_customer, payments, ["create"])
    with tenant_scope(acme):
        refused_naming(
            no_self_approval,
            lambda: grant_services.grant(
                actor=acme_admin, module=payments, actions=["approve"], reason="month end", user=acme_customer
            ),
        )
        assert not engine.can(acme_customer, "approve", payments)


def test_a_grant_that_creates_no_violation_goes_through(acme, acme_admin, acme_customer, payments, no_self_approval):
    with tenant_scope(acme):
        made = grant_services.grant(
            actor=acme_admin, module=payments, actions=["approve"], reason="approver", user=acme_customer
        )
    assert isinstance(made, Grant)


def test_group_grant_refused_when_one_member_would_violate(acme, acme_admin, acme_customer, payments, no_self_approval):
    give(acme, acme_customer, payments, ["create"])
    with tenant_scope(acme):
        group = group_services.create_group(actor=acme_admin, tenant=acme, name="Treasury")
        group_services.add_member(group, acme_customer, actor=acme_admin)
        refused_naming(
            no_self_approval,
            lambda: grant_services.grant(
                actor=acme_admin, module=payments, actions=["approve"], reason="treasury", group=group
            ),
        )


def test_group_membership_refused_when_the_group_gives_the_other_side(
    acme, acme_admin, acme_customer, payments, no_self_approval
):
    give(acme, acme_customer, payments, ["create"])
    with tenant_scope(acme):
        group = group_services.create_group(actor=acme_admin, tenant=acme, name="Approvers")
    give(acme, None, payments, ["approve"], group=group)
    with tenant_scope(acme):
        refused_naming(no_self_approval, lambda: group_services.add_member(group, acme_customer, actor=acme_admin))
        assert not GroupMembership.objects.filter(group=group, user=acme_customer).exists()


def test_role_change_refused_when_the_role_gives_the_other_side(
    acme, acme_admin, acme_customer, payments, no_self_approval
):
    give(acme, acme_customer, payments, ["create"])
    with tenant_scope(acme):
        approver = role_services.create_role(actor=acme_admin, tenant=acme, name="Payment approver")
        role_services.set_role_matrix(approver, {"payments": ["view", "approve"]}, actor=acme_admin)
        refused_naming(
            no_self_approval, lambda: role_services.change_user_role(acme_customer, approver, actor=acme_admin)
        )
    acme_customer.refresh_from_db()
    assert acme_customer.role_id != approver.pk


def test_role_side_rule_refuses_a_grants_right_to_a_role_holder(acme, acme_admin, acme_customer):
    """Role Auditor with any grants right: giving the auditor a grants right is refused (system path too)."""
    with tenant_scope(acme):
        auditor = role_services.create_role(actor=acme_admin, tenant=acme, name="Auditor")
        role_services.apply_role_change(acme_customer, auditor, actor=None)
        rule = sod_rules.create_rule(
            actor=acme_admin,
            tenant=acme,
            name="Auditors grant nothing",
            reason="auditors check grants, they never give them",
            first_role=auditor,
            second_module=module(acme, "grants"),
            second_actions=["view", "create", "delete", "approve"],
        )
        refused_naming(
            rule,
            lambda: grant_services.grant(
                actor=None, module=module(acme, "grants"), actions=["create"], reason="x", user=acme_customer
            ),
        )


def test_matrix_change_refused_when_a_holder_would_violate(acme, acme_admin, acme_customer, payments, no_self_approval):
    with tenant_scope(acme):
        clerk = role_services.create_role(actor=acme_admin, tenant=acme, name="Clerk")
        role_services.set_role_matrix(clerk, {"payments": ["create"]}, actor=acme_admin)
        role_services.apply_role_change(acme_customer, clerk, actor=None)
        refused_naming(
            no_self_approval,
            lambda: role_services.set_role_matrix(clerk, {"payments": ["create", "approve"]}, actor=acme_admin),
        )
        assert role_services.matrix_of(clerk) == {"payments": BITS["create"]}


def test_matrix_change_of_a_role_nobody_violates_with_goes_through(acme, acme_admin, payments, no_self_approval):
    with tenant_scope(acme):
        empty = role_services.create_role(actor=acme_admin, tenant=acme, name="Nobody holds me")
        assert role_services.set_role_matrix(empty, {"payments": ["create", "approve"]}, actor=acme_admin) == empty


def test_access_request_approval_refused_naming_the_rule(acme, acme_admin, acme_customer, payments, no_self_approval):
    give(acme, acme_customer, payments, ["create"])
    with tenant_scope(acme):
        asked = request_services.submit(
            actor=acme_customer, module=payments, actions=["approve"], reason="month end", duration_days=7
        )
        with pytest.raises(RequestRefused) as refusal:
            request_services.approve(asked, actor=acme_admin)
    assert no_self_approval.name in str(refusal.value)
    assert not Grant.objects.dangerously_all_tenants().filter(reference=f"request:{asked.pk}").exists()


# --- exceptions: four-eyes with a justification ----------------------------------------------------------


def test_exception_needs_a_justification_then_a_second_administrator(
    acme, acme_admin, acme_admin2, acme_customer, export_delete
):
    reports = module(acme, "reports")
    give(acme, acme_customer, reports, ["export"])
    with tenant_scope(acme):
        with pytest.raises(AccessRefused) as refusal:
            grant_services.grant(actor=acme_admin, module=reports, actions=["delete"], reason="x", user=acme_customer)
        assert refusal.value.code == ErrorCode.SOD_EXCEPTION_NEEDED
        assert export_delete.name in str(refusal.value)
        pending = grant_services.grant(
            actor=acme_admin,
            module=reports,
            actions=["delete"],
            reason="cleanup project",
            user=acme_customer,
            justification="two weeks of archive clean-up, supervised",
        )
        assert isinstance(pending, PendingChange)
        assert pending.payload["sod_exceptions"] == [export_delete.pk]
        assert not engine.can(acme_customer, "delete", reports)
        with pytest.raises(AccessRefused) as own:
            changes.approve_change(pending, actor=acme_admin)
        assert own.value.code == ErrorCode.SELF_APPROVAL
        granted = changes.approve_change(pending, actor=acme_admin2)
        assert isinstance(granted, Grant)
        exception = SodException.objects.get(rule=export_delete, user=acme_customer)
        assert exception.justification == "two weeks of archive clean-up, supervised"
        assert exception.approved_by == acme_admin2 and exception.requested_by == acme_admin
        assert AuditEvent.objects.filter(event_type="sod_exception.approved").count() == 1
        assert engine.can(acme_customer, "delete", reports)
        (violation,) = [v for v in sod.tenant_violations(acme.pk) if v.user_id == acme_customer.pk]
        assert violation.exception == exception


def test_exception_role_change_through_a_pending_change(acme, acme_admin, acme_admin2, acme_customer, export_delete):
    reports = module(acme, "reports")
    give(acme, acme_customer, reports, ["export"])
    with tenant_scope(acme):
        eraser = role_services.create_role(actor=acme_admin, tenant=acme, name="Eraser")
        role_services.set_role_matrix(eraser, {"reports": ["view", "delete"]}, actor=acme_admin)
        pending = role_services.change_user_role(
            acme_customer, eraser, actor=acme_admin, reason="r", justification="temporary, supervised"
        )
        assert isinstance(pending, PendingChange)
        changes.approve_change(pending, actor=acme_admin2)
    acme_customer.refresh_from_db()
    assert acme_customer.role_id == eraser.pk
    assert SodException.objects.dangerously_all_tenants().filter(rule=export_delete, user=acme_customer).exists()


def test_a_rule_created_after_the_request_refuses_its_approval(acme, acme_admin, acme_admin2, acme_customer, payments):
    """The approval runs the same check: a pending change that a newer rule forbids is refused."""
    give(acme, acme_customer, payments, ["create"])
    with tenant_scope(acme):
        group = group_services.create_group(actor=acme_admin, tenant=acme, name="Payment admins")
    give(acme, None, payments, ["approve"], group=group)
    give(acme, None, module(acme, "users"), ["view"], group=group)  # a system grant: joining needs four eyes
    with tenant_scope(acme):
        pending = group_services.add_member(group, acme_customer, actor=acme_admin)
        assert isinstance(pending, PendingChange)
        rule = sod_rules.create_rule(
            actor=acme_admin,
            tenant=acme,
            name="Late rule",
            reason="create or approve",
            first_module=payments,
            first_actions=["approve"],
            second_module=payments,
            second_actions=["create"],
        )
        with pytest.raises(AccessRefused) as refusal:
            changes.approve_change(pending, actor=acme_admin2)
    assert refusal.value.code == ErrorCode.SOD_CONFLICT and rule.name in str(refusal.value)


# --- rules: audited CRUD and denials ----------------------------------------------------------------------


def test_rule_creation_and_deletion_are_audited(acme, acme_admin, no_self_approval):
    with tenant_scope(acme):
        created = AuditEvent.objects.get(event_type="sod_rule.created")
        assert created.target_id == str(no_self_approval.pk)
        sod_rules.delete_rule(no_self_approval, actor=acme_admin, reason="replaced")
        assert not SodRule.objects.exists()
        assert AuditEvent.objects.filter(event_type="sod_rule.deleted").count() == 1


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"name": ""}, ErrorCode.INVALID),
        ({"reason": " "}, ErrorCode.INVALID),
        ({"severity": "apocalyptic"}, ErrorCode.INVALID),
        ({"first_actions": []}, ErrorCode.INVALID),
        ({"first_actions": ["export"]}, ErrorCode.INVALID),  # does not apply to payments
        ({"first_module": None}, ErrorCode.INVALID),
    ],
)
def test_bad_rules_are_refused_and_change_nothing(acme, acme_admin, payments, change, expected):
    fields = {
        "name": "R",
        "reason": "why",
        "severity": "high",
        "first_module": payments,
        "first_actions": ["approve"],
        "second_module": payments,
        "second_actions": ["create"],
        **change,
    }
    with tenant_scope(acme):
        with pytest.raises(AccessRefused) as refusal:
            sod_rules.create_rule(actor=acme_admin, tenant=acme, **fields)
        assert refusal.value.code == expected
        assert not SodRule.objects.exists()


def test_only_holders_of_grants_rights_manage_rules(acme, acme_customer, payments, no_self_approval):
    with tenant_scope(acme):
        with pytest.raises(AccessRefused) as refusal:
            sod_rules.create_rule(
                actor=acme_customer,
                tenant=acme,
                name="Mine",
                reason="r",
                first_module=payments,
                first_actions=["approve"],
                second_module=payments,
                second_actions=["create"],
            )
        assert refusal.value.code == ErrorCode.NOT_ALLOWED
        with pytest.raises(AccessRefused):
            sod_rules.delete_rule(no_self_approval, actor=acme_customer, reason="r")
        assert SodRule.objects.count() == 1


def test_a_side_of_another_tenant_is_refused(acme, acme_admin, globex, payments):
    globex_reports = module(globex, "reports")
    with tenant_scope(acme):
        with pytest.raises(AccessRefused) as refusal:
            sod_rules.create_rule(
                actor=acme_admin,
                tenant=acme,
                name="Cross",
                reason="r",
                first_module=payments,
                first_actions=["approve"],
                second_module=globex_reports,
                second_actions=["view"],
            )
    assert refusal.value.code == ErrorCode.CROSS_TENANT


# --- detective: violations, explain, the engine's fast path -----------------------------------------------


def test_existing_violations_are_listed_not_removed(acme, acme_admin, acme_customer, payments):
    give(acme, acme_customer, payments, ["create", "approve"])
    with tenant_scope(acme):
        rule = sod_rules.create_rule(
            actor=acme_admin,
            tenant=acme,
            name="After the fact",
            reason="r",
            first_module=payments,
            first_actions=["approve"],
            second_module=payments,
            second_actions=["create"],
        )
    found = {(v.user_id, v.rule.pk) for v in sod.tenant_violations(acme.pk)}
    assert (acme_customer.pk, rule.pk) in found
    assert (acme_admin.pk, rule.pk) in found  # the Administrator role holds every action of a custom module
    assert [r.rule_id for r in sod.user_violations(acme_customer)] == [rule.pk]
    with tenant_scope(acme):
        explanation = engine.explain(acme_customer, "approve", payments)
    assert explanation.allowed and any("After the fact" in text for text in explanation.conflicts)


def test_explain_names_the_rule_that_would_refuse(acme, acme_customer, payments, no_self_approval):
    give(acme, acme_customer, payments, ["create"])
    with tenant_scope(acme):
        explanation = engine.explain(acme_customer, "approve", payments)
    assert not explanation.allowed
    assert any(no_self_approval.name in reason for reason in explanation.reasons)


def test_compiled_rules_follow_the_version(acme, acme_admin, payments, no_self_approval):
    (compiled,) = sod.tenant_rules(acme.pk)
    assert compiled.rule_id == no_self_approval.pk
    with tenant_scope(acme):
        sod_rules.delete_rule(no_self_approval, actor=acme_admin, reason="gone")
    assert sod.tenant_rules(acme.pk) == ()


def test_a_tenant_without_rules_costs_the_check_no_query(acme, acme_customer, payments, django_assert_max_num_queries):
    sod.tenant_rules(acme.pk)
    with django_assert_max_num_queries(1):  # the version row at most
        assert gates.conflicts(gates.Gain([acme_customer], bits={payments.pk: 1})) == []


def test_review_items_of_a_violation_are_flagged(acme, acme_admin, acme_customer, payments, no_self_approval):
    from reviews.evidence import EVIDENCE_HOOKS, Candidate

    give(acme, acme_customer, payments, ["create"])
    grant = give(acme, acme_customer, payments, ["view"])
    with tenant_scope(acme):
        Grant.objects.filter(pk=grant.pk).update(actions=BITS["view"] | BITS["approve"])  # written behind the rule
        from permissions.versioning import bump

        bump(acme.pk)
        touching = Candidate(
            kind="grant",
            user_id=acme_customer.pk,
            access_key="g",
            snapshot={"grant": 1, "module": "payments", "actions": ["approve"]},
        )
        other = Candidate(
            kind="grant",
            user_id=acme_customer.pk,
            access_key="h",
            snapshot={"grant": 2, "module": "reports", "actions": ["view"]},
        )
        for hook in EVIDENCE_HOOKS:
            hook([touching, other], None)
    assert touching.flagged and touching.evidence["sod"] == [no_self_approval.name]
    assert "sod" not in other.evidence


def test_a_campaigns_items_carry_the_sod_flag_and_the_lessons(acme, acme_admin, acme_customer, payments):
    """Opening a review: the items that make a violation are flagged with the rule; every item shows lessons."""
    from django.utils import timezone

    from reviews import evidence
    from reviews.presenting import reason_text
    from tests.reviews.helpers import make_policy

    create = give(acme, acme_customer, payments, ["create"])
    approve = give(acme, acme_customer, payments, ["approve"])
    no_self_approval_rule(acme, acme_admin, payments)  # after the fact: a violation to review
    policy = make_policy(acme, fallback=acme_admin)
    with tenant_scope(acme):
        candidates, _world = evidence.collect(policy, timezone.now())
    found = {c.access_key: c for c in candidates}
    for grant in (create, approve):
        item = found[f"grant:{grant.pk}"]
        assert item.flagged and item.evidence["sod"] == ["No self-approved payments"]
        texts = [reason_text(code, params) for code, params in item.reasons]
        assert "Part of a separation-of-duties violation: No self-approved payments." in texts
        assert "No security lesson completed." in texts
