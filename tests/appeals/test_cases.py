"""Issue 17 item 5: an appeal or complaint is a tracked case: a conversation between the customer and the
approvers, a due time in the tenant's working days, states open → answered → resolved → closed, the outcome
linked to the grant it produced; permission-checked (the customer's own, the approvers of its module), audited."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from accessrequests import services as requests
from accessrequests.models import Notice
from appeals import services
from appeals.errors import CaseRefused
from appeals.models import Case
from appeals.workdays import add_working_days
from audit.models import AuditEvent
from permissions import engine
from permissions.models import Grant
from permissions.services import grants
from permissions.vocabulary import Action


def _open(customer, **values):
    base = {"kind": Case.Kind.MISSING, "subject": "Cannot see Q3", "body": "The Q3 report is not in my list."}
    return services.open_case(actor=customer, **{**base, **values})


def _events(case, kind):
    return list(AuditEvent.objects.filter(event_type=kind, target_type="appeals.case", target_id=str(case.pk)))


@pytest.mark.parametrize(
    ("start", "days", "due"),
    [
        (datetime(2026, 12, 4, 10, tzinfo=UTC), 3, datetime(2026, 12, 9, 10, tzinfo=UTC)),  # Friday → Wednesday
        (datetime(2026, 12, 5, 10, tzinfo=UTC), 3, datetime(2026, 12, 9, 10, tzinfo=UTC)),  # Saturday → Wednesday
        (datetime(2026, 12, 7, 10, tzinfo=UTC), 1, datetime(2026, 12, 8, 10, tzinfo=UTC)),  # Monday → Tuesday
    ],
)
def test_due_times_count_working_days(start, days, due):
    assert add_working_days(start, days) == due


def test_working_days_follow_the_tenants_time_zone():
    # Friday 23:30 UTC is Saturday 08:30 in Tokyo: three working days on is Wednesday 08:30 in Tokyo, which is
    # Tuesday 23:30 UTC (counted in UTC, it would have been Wednesday 23:30 UTC).
    start = datetime(2026, 12, 4, 23, 30, tzinfo=UTC)
    assert add_working_days(start, 3, "Asia/Tokyo") == datetime(2026, 12, 8, 23, 30, tzinfo=UTC)
    assert add_working_days(start, 3, "UTC") == datetime(2026, 12, 9, 23, 30, tzinfo=UTC)


def test_a_customer_opens_a_case_due_in_the_tenants_working_days_audited(in_acme, customer):
    in_acme.appeal_due_days = 5
    in_acme.save(update_fields=["appeal_due_days"])
    customer.tenant.refresh_from_db()
    case = _open(customer)
    assert case.state == Case.State.OPEN and case.messages.count() == 1
    assert case.due_at == add_working_days(case.created_at, 5, in_acme.time_zone)
    [event] = _events(case, "appeal.opened")
    assert event.actor_id == customer.pk and event.after["kind"] == "missing"
    assert "Q3 report" not in event.canonical  # the conversation stays out of the trail


def test_bad_input_is_refused_and_changes_nothing(in_acme, customer, other_customer, acme_admin, reports):
    with pytest.raises(CaseRefused):
        _open(customer, body="   ")
    with pytest.raises(CaseRefused):
        _open(customer, kind="nonsense")
    with pytest.raises(CaseRefused):
        _open(customer, subject="x" * 201)
    theirs = grants.grant(actor=acme_admin, module=reports, user=other_customer, actions=[Action.VIEW], reason="x")
    with pytest.raises(CaseRefused):
        _open(customer, kind=Case.Kind.REVOCATION, grant=theirs)  # someone else's grant
    assert Case.objects.count() == 0 and not AuditEvent.objects.filter(event_type="appeal.opened").exists()


def test_a_denial_can_be_appealed_only_by_its_requester_and_only_once_decided(
    in_acme, customer, other_customer, acme_admin, reports
):
    asked = requests.submit(actor=customer, module=reports, actions=["view"], reason="Q3 close", duration_days=7)
    with pytest.raises(CaseRefused):
        _open(customer, kind=Case.Kind.DENIAL, request=asked)  # still pending
    requests.deny(asked, actor=acme_admin, reason="Not your team")
    asked.refresh_from_db()
    with pytest.raises(CaseRefused):
        _open(other_customer, kind=Case.Kind.DENIAL, request=asked)
    case = _open(customer, kind=Case.Kind.DENIAL, request=asked)
    assert case.module_id == reports.pk  # the module's owners handle it too


def test_the_conversation_moves_the_states_and_tells_the_customer(in_acme, customer, acme_admin, reports):
    case = _open(customer, module=reports)
    services.reply(case, actor=acme_admin, body="Which report exactly?")
    case.refresh_from_db()
    assert case.state == Case.State.ANSWERED and case.answered_at is not None
    [notice] = Notice.objects.filter(user=customer, kind=Notice.Kind.CASE_UPDATE)
    assert notice.params["case"] == case.pk
    old_due = case.due_at
    services.reply(case, actor=customer, body="Q3 revenue, EMEA")
    case.refresh_from_db()
    assert case.state == Case.State.OPEN and case.due_at >= old_due  # back with the approvers, a new due time
    services.resolve(case, actor=acme_admin, outcome=Case.Outcome.EXPLAINED, body="EMEA is another team's.")
    case.refresh_from_db()
    assert (case.state, case.outcome, case.resolved_by_id) == (Case.State.RESOLVED, "explained", acme_admin.pk)
    services.close(case, actor=customer)
    case.refresh_from_db()
    assert case.state == Case.State.CLOSED
    with pytest.raises(CaseRefused):
        services.reply(case, actor=customer, body="one more thing")
    assert [len(_events(case, kind)) for kind in ("appeal.replied", "appeal.resolved", "appeal.closed")] == [2, 1, 1]


def test_an_approver_grants_from_the_case_and_the_outcome_links_the_grant(in_acme, customer, acme_admin, reports):
    case = _open(customer, module=reports)
    services.grant_from_case(case, actor=acme_admin, actions=["view"], days=14)
    case.refresh_from_db()
    grant = Grant.objects.get(pk=case.result_grant_id)
    assert (case.state, case.outcome) == (Case.State.RESOLVED, Case.Outcome.GRANTED)
    assert (
        grant.user_id == customer.pk and grant.reference == f"case:{case.pk}" and grant.granted_by_id == acme_admin.pk
    )
    assert grant.expires_at - timezone.now() <= timedelta(days=14)
    assert engine.can(customer, Action.VIEW, "reports")
    [event] = _events(case, "appeal.resolved")
    assert event.after["grant"] == grant.pk and event.after["outcome"] == "granted"


def test_nobody_grants_beyond_their_own_rights_or_console_rights_from_a_case(
    in_acme, customer, reports_owner, acme_admin, reports
):
    from tests.permissions.conftest import module

    case = _open(customer, module=reports)
    with pytest.raises(CaseRefused):  # the owner holds view, not delete, on reports
        services.grant_from_case(case, actor=reports_owner, actions=["delete"], days=7)
    console = _open(customer, module=module(in_acme, "users"))
    with pytest.raises(CaseRefused):
        services.grant_from_case(console, actor=acme_admin, actions=["view"], days=7)
    with pytest.raises(CaseRefused):
        services.grant_from_case(case, actor=acme_admin, actions=["view"], days=9999)
    assert not Grant.objects.filter(user=customer).exists()


def test_who_may_answer_the_module_owner_yes_another_customer_and_the_customer_no(
    in_acme, customer, other_customer, reports_owner, reports, products
):
    case = _open(customer, module=reports)
    services.reply(case, actor=reports_owner, body="Looking into it")
    elsewhere = _open(customer, module=products)
    for actor, target in ((reports_owner, elsewhere), (other_customer, case)):
        with pytest.raises(CaseRefused):
            services.reply(target, actor=actor, body="not mine")
    with pytest.raises(CaseRefused):
        services.resolve(case, actor=customer, outcome="upheld", body="I decide myself")
    with pytest.raises(CaseRefused):
        services.close(case, actor=other_customer)


def test_the_customer_withdraws_an_open_case(in_acme, customer):
    case = services.close(_open(customer), actor=customer)
    assert (case.state, case.outcome) == (Case.State.CLOSED, Case.Outcome.WITHDRAWN)
