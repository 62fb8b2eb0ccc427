"""Security-awareness training (issue 17): lessons passed with right answers and an attestation (dates per
user, audited); a tenant may require a lesson before a right or a role, and every path that gives it refuses
with a link to the lesson until the user completed it; completions are review evidence; tenants apart."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from accounts.scoping import tenant_scope
from audit.models import AuditEvent
from permissions import engine
from permissions.models import Grant, PendingChange
from permissions.services import grants as grant_services
from permissions.services import groups as group_services
from permissions.services import roles as role_services
from permissions.services.errors import AccessRefused, ErrorCode
from tests.conftest import login
from tests.permissions.conftest import module
from training import lessons
from training import services as training
from training.models import LessonCompletion, TrainingRequirement

RIGHT = {lesson.key: [q.answer for q in lesson.questions] for lesson in lessons.LESSONS}


@pytest.fixture
def export_needs_lesson(acme, acme_admin):
    with tenant_scope(acme):
        return training.create_requirement(
            actor=acme_admin, tenant=acme, lesson="protect-account", module=module(acme, "reports"), actions=["export"]
        )


def grant_export(acme, admin, user):
    with tenant_scope(acme):
        return grant_services.grant(
            actor=admin, module=module(acme, "reports"), actions=["export"], reason="quarterly figures", user=user
        )


def test_every_lesson_has_text_and_questions_in_both_audiences():
    assert {lesson.audience for lesson in lessons.LESSONS} == {lessons.ADMINISTRATORS, lessons.CUSTOMERS}
    for lesson in lessons.LESSONS:
        assert len(lesson.paragraphs) >= 2 and len(lesson.questions) >= 2
        assert all(0 <= q.answer < len(q.choices) for q in lesson.questions)


def test_a_lesson_is_passed_with_right_answers_and_an_attestation(acme, acme_customer):
    key = "protect-account"
    with tenant_scope(acme):
        wrong = [1 - a if a in (0, 1) else 0 for a in RIGHT[key]]
        for answers, attested in [(wrong, True), (RIGHT[key][:1], True), (RIGHT[key], False)]:
            with pytest.raises(AccessRefused) as refusal:
                training.complete_lesson(acme_customer, key, answers, attested=attested)
            assert refusal.value.code == ErrorCode.INVALID
        assert not LessonCompletion.objects.exists()
        assert not AuditEvent.objects.filter(event_type="training.lesson_completed").exists()
        first = training.complete_lesson(acme_customer, key, RIGHT[key], attested=True)
        assert first.completed_at == first.attested_at
    later = timezone.now() + timedelta(days=200)
    with time_machine.travel(later), tenant_scope(acme):
        again = training.complete_lesson(acme_customer, key, RIGHT[key], attested=True)
        assert (
            again.pk == first.pk and again.completed_at == first.completed_at and again.attested_at > first.attested_at
        )
        assert AuditEvent.objects.filter(event_type="training.lesson_completed").count() == 2


def test_an_unknown_lesson_is_refused(acme, acme_customer):
    with tenant_scope(acme), pytest.raises(AccessRefused):
        training.complete_lesson(acme_customer, "no-such-lesson", [], attested=True)


def test_required_lesson_refuses_the_grant_with_a_link_then_allows_it(
    acme, acme_admin, acme_customer, export_needs_lesson
):
    with pytest.raises(AccessRefused) as refusal:
        grant_export(acme, acme_admin, acme_customer)
    assert refusal.value.code == ErrorCode.TRAINING_REQUIRED
    assert refusal.value.link == "/training/lessons/protect-account/"
    assert "Protecting your account" in str(refusal.value)
    assert not Grant.objects.dangerously_all_tenants().filter(user=acme_customer).exists()
    with tenant_scope(acme):
        training.complete_lesson(acme_customer, "protect-account", RIGHT["protect-account"], attested=True)
    assert isinstance(grant_export(acme, acme_admin, acme_customer), Grant)
    assert engine.can(acme_customer, "export", module(acme, "reports"))


def test_the_requirement_binds_only_its_actions(acme, acme_admin, acme_customer, export_needs_lesson):
    with tenant_scope(acme):
        made = grant_services.grant(
            actor=acme_admin, module=module(acme, "reports"), actions=["view"], reason="r", user=acme_customer
        )
    assert isinstance(made, Grant)


def test_required_lesson_binds_group_grants_and_memberships(acme, acme_admin, acme_customer, export_needs_lesson):
    with tenant_scope(acme):
        group = group_services.create_group(actor=acme_admin, tenant=acme, name="Analysts")
        group_services.add_member(group, acme_customer, actor=acme_admin)
        with pytest.raises(AccessRefused) as refusal:
            grant_services.grant(
                actor=acme_admin, module=module(acme, "reports"), actions=["export"], reason="r", group=group
            )
        assert refusal.value.code == ErrorCode.TRAINING_REQUIRED
        other = group_services.create_group(actor=acme_admin, tenant=acme, name="Exporters")
        grant_services.grant(actor=None, module=module(acme, "reports"), actions=["export"], reason="r", group=other)
        with pytest.raises(AccessRefused) as joined:
            group_services.add_member(other, acme_customer, actor=acme_admin)
        assert joined.value.code == ErrorCode.TRAINING_REQUIRED


def test_required_lesson_before_a_role(acme, acme_admin, acme_customer):
    with tenant_scope(acme):
        analyst = role_services.create_role(actor=acme_admin, tenant=acme, name="Analyst")
        training.create_requirement(actor=acme_admin, tenant=acme, lesson="report-something-wrong", role=analyst)
        with pytest.raises(AccessRefused) as refusal:
            role_services.change_user_role(acme_customer, analyst, actor=acme_admin)
        assert refusal.value.code == ErrorCode.TRAINING_REQUIRED
        assert refusal.value.link.endswith("/report-something-wrong/")
        training.complete_lesson(
            acme_customer, "report-something-wrong", RIGHT["report-something-wrong"], attested=True
        )
        assert role_services.change_user_role(acme_customer, analyst, actor=acme_admin).role_id == analyst.pk


def test_required_lesson_binds_a_matrix_change_for_the_roles_holders(acme, acme_admin, acme_customer):
    with tenant_scope(acme):
        clerk = role_services.create_role(actor=acme_admin, tenant=acme, name="Clerk")
        role_services.apply_role_change(acme_customer, clerk, actor=None)
        training.create_requirement(
            actor=acme_admin, tenant=acme, lesson="protect-account", module=module(acme, "reports"), actions=["export"]
        )
        with pytest.raises(AccessRefused) as refusal:
            role_services.set_role_matrix(clerk, {"reports": ["view", "export"]}, actor=acme_admin)
        assert refusal.value.code == ErrorCode.TRAINING_REQUIRED
        assert role_services.set_role_matrix(clerk, {"reports": ["view"]}, actor=acme_admin) == clerk


def test_system_grant_pending_change_is_checked_at_request_time(acme, acme_admin, acme_customer):
    with tenant_scope(acme):
        training.create_requirement(
            actor=acme_admin, tenant=acme, lesson="four-eyes", module=module(acme, "users"), actions=["view"]
        )
        with pytest.raises(AccessRefused):
            grant_services.grant(
                actor=acme_admin, module=module(acme, "users"), actions=["view"], reason="r", user=acme_customer
            )
        assert not PendingChange.objects.exists()


def test_requirements_are_audited_and_need_grants_rights(acme, acme_admin, acme_customer, export_needs_lesson):
    with tenant_scope(acme):
        assert AuditEvent.objects.filter(event_type="training.requirement_created").count() == 1
        with pytest.raises(AccessRefused) as refusal:
            training.create_requirement(
                actor=acme_customer, tenant=acme, lesson="four-eyes", module=module(acme, "reports"), actions=["view"]
            )
        assert refusal.value.code == ErrorCode.NOT_ALLOWED
        with pytest.raises(AccessRefused):
            training.delete_requirement(export_needs_lesson, actor=acme_customer)
        for bad in [
            {"lesson": "nope", "module": module(acme, "reports"), "actions": ["view"]},
            {"lesson": "four-eyes"},
            {"lesson": "four-eyes", "module": module(acme, "reports"), "actions": []},
            {"lesson": "four-eyes", "module": module(acme, "reports"), "actions": ["approve"]},
        ]:
            with pytest.raises(AccessRefused):
                training.create_requirement(actor=acme_admin, tenant=acme, **bad)
        assert TrainingRequirement.objects.count() == 1
        training.delete_requirement(export_needs_lesson, actor=acme_admin)
        assert AuditEvent.objects.filter(event_type="training.requirement_deleted").count() == 1


def test_a_module_of_another_tenant_is_refused(acme, acme_admin, globex):
    with tenant_scope(acme), pytest.raises(AccessRefused) as refusal:
        training.create_requirement(
            actor=acme_admin, tenant=acme, lesson="four-eyes", module=module(globex, "reports"), actions=["view"]
        )
    assert refusal.value.code == ErrorCode.CROSS_TENANT


def test_completion_is_review_evidence(acme, acme_customer):
    from reviews.evidence import EVIDENCE_HOOKS, Candidate
    from reviews.presenting import reason_text

    with tenant_scope(acme):
        training.complete_lesson(acme_customer, "protect-account", RIGHT["protect-account"], attested=True)
        item = Candidate(kind="role", user_id=acme_customer.pk, access_key="role:1", snapshot={"role": "basic"})
        for hook in EVIDENCE_HOOKS:
            hook([item], timezone.now())
    assert list(item.evidence["training"]) == ["protect-account"]
    code, params = item.reasons[-1]
    assert reason_text(code, params) == "Security lessons completed: Protecting your account."


# --- screens ---------------------------------------------------------------------------------------------


def test_a_customer_passes_a_lesson_on_its_page(client, acme, acme_customer):
    login(client, acme_customer)
    assert "Protecting your account" in client.get("/training/").content.decode()
    page = client.get("/training/lessons/protect-account/")
    assert page.status_code == 200
    answers = {f"q{i}": a for i, a in enumerate(RIGHT["protect-account"])}
    wrong = client.post("/training/lessons/protect-account/", {**answers, "q0": 0})
    assert wrong.status_code == 200 and 'data-testid="lesson-wrong"' in wrong.content.decode()
    done = client.post("/training/lessons/protect-account/", {**answers, "attest": "on"})
    assert done.status_code == 302
    with tenant_scope(acme):
        assert LessonCompletion.objects.filter(user=acme_customer, lesson="protect-account").exists()
    assert client.get("/training/lessons/unknown/").status_code == 404


def test_the_requirement_screens_need_grants_rights(client, acme, acme_customer):
    login(client, acme_customer)
    assert client.get("/training/requirements/").status_code == 403
    assert client.get("/training/requirements/new/").status_code == 403


def test_admin_requires_a_lesson_and_the_console_grant_says_why(admin_client_acme, acme, acme_customer):
    reports = module(acme, "reports")
    response = admin_client_acme.post(
        "/training/requirements/new/", {"lesson": "protect-account", "module": reports.pk, "actions": ["export"]}
    )
    assert response.status_code == 302
    page = admin_client_acme.post(
        "/console/grants/new/",
        {"user": acme_customer.email, "module": reports.pk, "actions": ["export"], "reason": "figures"},
        follow=True,
    ).content.decode()
    assert "must first complete the security lesson" in page
    assert 'href="/training/lessons/protect-account/"' in page


def test_another_tenants_requirement_is_404(admin_client_acme, globex, globex_admin):
    with tenant_scope(globex):
        theirs = training.create_requirement(
            actor=globex_admin, tenant=globex, lesson="four-eyes", module=module(globex, "reports"), actions=["view"]
        )
    assert admin_client_acme.post(f"/training/requirements/{theirs.pk}/delete/").status_code == 404
    assert TrainingRequirement.objects.dangerously_all_tenants().filter(pk=theirs.pk).exists()
