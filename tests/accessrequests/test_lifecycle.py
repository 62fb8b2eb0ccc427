"""The request lifecycle through the services: submit, duplicates, approve (shortened, four-eyes), deny,
cancel, expiry at the exact instant, the grant that ends by itself, extension; all audited (AZ-6, AZ-2)."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from accessrequests import rules, services
from accessrequests.errors import RequestCode, RequestRefused
from accessrequests.jobs import expire_pending_requests
from accessrequests.models import AccessRequest, Notice
from audit.events import EventType
from audit.models import AuditEvent
from permissions import engine
from permissions.models import Grant, Module, Provenance
from permissions.services import grants
from permissions.vocabulary import Action

A = Action


def events(tenant, event_type):
    return list(AuditEvent.objects.dangerously_all_tenants().filter(tenant=tenant, event_type=event_type))


def refused(code, call, *args, **kwargs):
    with pytest.raises(RequestRefused) as caught:
        call(*args, **kwargs)
    assert caught.value.code == code, caught.value.code
    return caught.value


def ask(user, module, resource=None, actions=(A.VIEW,), days=14, reason="Quarterly review"):
    return services.submit(
        actor=user, module=module, resource=resource, actions=list(actions), reason=reason, duration_days=days
    )


def test_submit_is_audited_and_pending_for_seven_days(in_acme, acme_basic, reports, report):
    request = ask(acme_basic, reports, report)
    assert request.status == AccessRequest.Status.PENDING
    assert request.pending_until == request.created_at + timedelta(days=7)
    [event] = events(in_acme, EventType.REQUEST_SUBMITTED)
    assert event.actor == acme_basic and event.reason == "Quarterly review"
    assert event.after["actions"] == ["view"] and event.after["resource"] == report.pk


def test_submit_refuses_what_is_not_a_valid_request(in_acme, acme_basic, reports, report, globex_report):
    refused(RequestCode.INVALID, ask, acme_basic, reports, report, reason="   ")
    refused(RequestCode.INVALID, ask, acme_basic, reports, report, days=91)
    refused(RequestCode.INVALID, ask, acme_basic, reports, report, days=0)
    refused(RequestCode.INVALID, ask, acme_basic, reports, report, actions=[A.APPROVE])  # not a reports action
    refused(RequestCode.ALREADY_HELD, ask, acme_basic, Module.objects.get(key="products"))  # basic users view products
    # AZ-2: another tenant's resource is refused, whatever its module.
    refused(RequestCode.INVALID, ask, acme_basic, reports, globex_report)
    assert not AccessRequest.objects.exists()


def test_durations_are_the_presets_capped_by_the_tenant(in_acme, acme_basic, reports, report):
    assert rules.allowed_durations(in_acme) == [1, 7, 14, 30, 90] and rules.default_duration(in_acme) == 14
    in_acme.request_max_days = 10
    in_acme.save(update_fields=["request_max_days"])
    acme_basic.tenant.refresh_from_db()
    assert rules.allowed_durations(in_acme) == [1, 7, 10] and rules.default_duration(in_acme) == 10
    refused(RequestCode.INVALID, ask, acme_basic, reports, report, days=14)
    assert ask(acme_basic, reports, report, days=10).duration_days == 10


def test_a_duplicate_pending_request_is_refused_with_the_existing_one(in_acme, acme_basic, reports, report):
    first = ask(acme_basic, reports, report, actions=[A.VIEW, A.EXPORT])
    caught = refused(RequestCode.DUPLICATE, ask, acme_basic, reports, report, actions=[A.EXPORT])
    assert caught.existing == first
    # Other actions on the same target, or the same action elsewhere, are separate requests.
    assert ask(acme_basic, reports, report, actions=[A.VIEW_SENSITIVE]).pk != first.pk
    assert ask(acme_basic, reports, None).pk != first.pk


def test_approval_creates_a_time_bound_grant_pointing_at_the_request(
    in_acme, acme_admin, acme_basic, reports, report, mailoutbox, django_capture_on_commit_callbacks
):
    request = ask(acme_basic, reports, report)
    assert not engine.can(acme_basic, A.VIEW, report)
    with django_capture_on_commit_callbacks(execute=True):
        done = services.approve(request, actor=acme_admin, days=7, reason="fine for a week")
    grant = done.grant
    assert done.status == AccessRequest.Status.APPROVED and done.granted_days == 7
    assert grant.provenance == Provenance.REQUEST and grant.reference == f"request:{request.pk}"
    assert grant.user == acme_basic and grant.resource == report and grant.granted_by == acme_admin
    assert grant.expires_at == done.decided_at + timedelta(days=7)
    assert engine.can(acme_basic, A.VIEW, report)
    [approved] = events(in_acme, EventType.REQUEST_APPROVED)
    assert approved.after["grant"] == grant.pk and approved.after["days"] == 7
    assert len(events(in_acme, EventType.GRANT_CREATED)) == 1
    # The requester is told: a notice in the portal and an e-mail after the commit.
    [notice] = Notice.objects.filter(user=acme_basic)
    assert notice.kind == Notice.Kind.APPROVED
    [mail] = mailoutbox
    assert mail.to == [acme_basic.email] and f"#{request.pk}" in mail.body
    # The grant stops at its expiry instant, without any job (AZ-5).
    with time_machine.travel(grant.expires_at - timedelta(seconds=1), tick=False):
        assert engine.can(acme_basic, A.VIEW, report)
    with time_machine.travel(grant.expires_at, tick=False):
        assert not engine.can(acme_basic, A.VIEW, report)


def test_the_approver_can_only_shorten_the_duration(in_acme, acme_admin, acme_basic, reports, report):
    request = ask(acme_basic, reports, report, days=7)
    refused(RequestCode.INVALID, services.approve, request, actor=acme_admin, days=14)
    refused(RequestCode.INVALID, services.approve, request, actor=acme_admin, days=0)
    assert services.approve(request, actor=acme_admin).grant.expires_at is not None


def test_the_tenant_maximum_caps_approvals_of_older_requests(in_acme, acme_admin, acme_basic, reports, report):
    request = ask(acme_basic, reports, report, days=30)
    in_acme.request_max_days = 7
    in_acme.save(update_fields=["request_max_days"])
    request = AccessRequest.objects.select_related("tenant").get(pk=request.pk)
    refused(RequestCode.INVALID, services.approve, request, actor=acme_admin, days=30)
    assert services.approve(request, actor=acme_admin).granted_days == 7


def test_the_resource_owner_may_decide(in_acme, acme_advanced, acme_basic, reports):
    from tests.permissions.conftest import make_resource

    owned = make_resource(in_acme, "reports", "Team report")
    owned.owner = acme_advanced
    owned.save(update_fields=["owner"])
    request = ask(acme_basic, reports, owned)
    assert rules.is_approver(acme_advanced, request) and rules.may_approve_anything(acme_advanced)
    assert services.approve(request, actor=acme_advanced).grant.granted_by == acme_advanced


def test_az6_nobody_approves_their_own_request(in_acme, acme_advanced, acme_admin, acme_basic, reports, report):
    """AZ-6: an owner of the module may approve others' requests, never their own."""
    reports.owners.add(acme_advanced)
    own = ask(acme_advanced, reports, report, actions=[A.VIEW_SENSITIVE])
    refused(RequestCode.SELF_APPROVAL, services.approve, own, actor=acme_advanced)
    refused(RequestCode.SELF_APPROVAL, services.deny, own, actor=acme_advanced, reason="no")
    assert not rules.is_approver(acme_advanced, own)
    # The same owner approves a customer's request for what they hold themselves.
    theirs = ask(acme_basic, reports, report)
    assert services.approve(theirs, actor=acme_advanced).status == AccessRequest.Status.APPROVED
    assert not events(in_acme, EventType.REQUEST_APPROVED)[0].after["first_approver"]


def test_only_approvers_decide_and_only_within_what_they_hold(in_acme, acme_advanced, acme_basic, reports, report):
    from tests.factories import UserFactory

    request = ask(acme_basic, reports, report, actions=[A.VIEW_SENSITIVE])
    refused(RequestCode.NOT_APPROVER, services.approve, request, actor=acme_advanced)
    refused(RequestCode.NOT_APPROVER, services.deny, request, actor=acme_advanced, reason="no")
    reports.owners.add(acme_advanced)  # an owner now, but advanced users do not hold view_sensitive
    refused(RequestCode.OUT_OF_SCOPE, services.approve, request, actor=acme_advanced)
    other = UserFactory(tenant=acme_basic.tenant)
    refused(RequestCode.NOT_APPROVER, services.approve, request, actor=other)
    assert AccessRequest.objects.get(pk=request.pk).status == AccessRequest.Status.PENDING
    assert not Grant.objects.exists()


def test_system_module_requests_need_two_different_approvers(
    in_acme, acme_admin, acme_admin2, acme_advanced, users_module
):
    request = ask(acme_advanced, users_module, actions=[A.VIEW], days=7)
    assert request.is_system and rules.risks(request)
    first = services.approve(request, actor=acme_admin, days=7)
    assert first.status == AccessRequest.Status.PENDING and first.first_approver == acme_admin
    assert not Grant.objects.exists() and not engine.can(acme_advanced, A.VIEW, "users")
    [event] = events(in_acme, EventType.REQUEST_FIRST_APPROVAL)
    assert event.actor == acme_admin
    refused(RequestCode.SAME_APPROVER, services.approve, first, actor=acme_admin)
    done = services.approve(first, actor=acme_admin2, days=1)
    assert done.status == AccessRequest.Status.APPROVED and done.granted_days == 1
    assert done.grant.expires_at == done.decided_at + timedelta(days=1)
    assert engine.can(acme_advanced, A.VIEW, "users")
    [approved] = events(in_acme, EventType.REQUEST_APPROVED)
    assert approved.actor == acme_admin2 and approved.after["first_approver"] == acme_admin.email


def test_deny_needs_a_reason_and_tells_the_requester(
    in_acme, acme_admin, acme_basic, reports, report, mailoutbox, django_capture_on_commit_callbacks
):
    request = ask(acme_basic, reports, report)
    refused(RequestCode.INVALID, services.deny, request, actor=acme_admin, reason=" ")
    with django_capture_on_commit_callbacks(execute=True):
        services.deny(request, actor=acme_admin, reason="Ask your account manager")
    request.refresh_from_db()
    assert request.status == AccessRequest.Status.DENIED and request.decided_by == acme_admin
    refused(RequestCode.ALREADY_DECIDED, services.approve, request, actor=acme_admin)
    [event] = events(in_acme, EventType.REQUEST_DENIED)
    assert event.reason == "Ask your account manager"
    assert "Ask your account manager" in mailoutbox[0].body
    assert not Grant.objects.exists()


def test_the_requester_may_cancel_their_pending_request(in_acme, acme_admin, acme_basic, reports, report):
    request = ask(acme_basic, reports, report)
    refused(RequestCode.NOT_APPROVER, services.cancel, request, actor=acme_admin)
    assert services.cancel(request, actor=acme_basic).status == AccessRequest.Status.CANCELLED
    assert len(events(in_acme, EventType.REQUEST_CANCELLED)) == 1
    assert ask(acme_basic, reports, report).pk != request.pk  # no longer a duplicate


def test_a_pending_request_expires_at_the_exact_instant(in_acme, acme_admin, acme_basic, reports, report):
    start = timezone.now().replace(microsecond=0)
    with time_machine.travel(start, tick=False):
        request = ask(acme_basic, reports, report)
        other = ask(acme_basic, reports, report, actions=[A.EXPORT])
    deadline = start + timedelta(days=7)
    with time_machine.travel(deadline - timedelta(seconds=1), tick=False):
        assert expire_pending_requests(in_acme) == 0
        assert services.approve(other, actor=acme_admin).status == AccessRequest.Status.APPROVED
    with time_machine.travel(deadline, tick=False):
        # Past its lifetime it cannot be approved, even before the job has run …
        refused(RequestCode.EXPIRED, services.approve, request, actor=acme_admin)
        # … and the job records the expiry once.
        assert expire_pending_requests(in_acme) == 1
        assert expire_pending_requests(in_acme) == 0
    request.refresh_from_db()
    assert request.status == AccessRequest.Status.EXPIRED
    [event] = events(in_acme, EventType.REQUEST_EXPIRED)
    assert event.actor is None and event.target_id == str(request.pk)
    assert Notice.objects.filter(user=acme_basic, kind=Notice.Kind.EXPIRED).count() == 1
    # An expired request is no duplicate: the customer may ask again.
    assert ask(acme_basic, reports, report).status == AccessRequest.Status.PENDING


def test_extension_of_a_grant_is_a_new_request_and_a_new_grant(in_acme, acme_admin, acme_basic, reports, report):
    granted = services.approve(ask(acme_basic, reports, report, days=7), actor=acme_admin).grant
    refused(RequestCode.ALREADY_HELD, ask, acme_basic, reports, report)
    extension = services.submit(
        actor=acme_basic,
        module=reports,
        resource=report,
        actions=[A.VIEW],
        reason="Still preparing the review",
        duration_days=14,
        extends=granted,
    )
    assert extension.extends == granted
    [event] = events(in_acme, EventType.REQUEST_EXTENSION_SUBMITTED)
    assert event.after["extends"] == granted.pk
    done = services.approve(extension, actor=acme_admin)
    assert done.grant.pk != granted.pk and done.grant.expires_at > granted.expires_at
    assert events(in_acme, EventType.REQUEST_APPROVED)[-1].after["extends"] == granted.pk


def test_only_a_live_grant_of_ones_own_can_be_extended(in_acme, acme_admin, acme_basic, acme_advanced, reports, report):
    theirs = grants.grant(
        actor=acme_admin,
        module=reports,
        resource=report,
        user=acme_advanced,
        actions=[A.VIEW_SENSITIVE],
        reason="x",
        expires_at=timezone.now() + timedelta(days=3),
    )
    with pytest.raises(RequestRefused):
        services.submit(
            actor=acme_basic,
            module=reports,
            resource=report,
            actions=[A.VIEW_SENSITIVE],
            reason="mine now",
            duration_days=7,
            extends=theirs,
        )


def test_lifecycle_events_roll_back_with_a_failed_approval(in_acme, acme_admin, acme_basic, reports, report):
    """LOG-1: a refused approval leaves no grant and no event."""
    request = ask(acme_basic, reports, report)
    acme_basic.is_active = False
    acme_basic.save(update_fields=["is_active"])
    request.requester.refresh_from_db()
    refused(RequestCode.INVALID, services.approve, request, actor=acme_admin)
    assert not Grant.objects.exists()
    assert not events(in_acme, EventType.REQUEST_APPROVED) and not events(in_acme, EventType.GRANT_CREATED)
