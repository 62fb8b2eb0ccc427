"""Four-eyes a tenant can use: a sole administrator names a second one through break-glass (docs/console.md).

The change applies only after the cooling-off period, through the job runner; it is e-mailed and cancellable;
it is refused while anyone else could approve; a requester who lost their rights meanwhile gets nothing."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from audit.events import EventType
from audit.models import AuditEvent
from permissions.models import BuiltinRole, PendingChange, Role
from permissions.services import breakglass, changes, roles
from permissions.services.errors import AccessRefused, ErrorCode
from portal.jobs import run_due_jobs
from tests.factories import UserFactory


def events(tenant, event_type):
    return list(AuditEvent.objects.dangerously_all_tenants().filter(tenant=tenant, event_type=event_type))


def promote(subject, actor):
    administrator = Role.objects.get(key=BuiltinRole.ADMINISTRATOR)
    change = roles.change_user_role(subject, administrator, actor=actor, reason="a second administrator")
    assert isinstance(change, PendingChange)
    return change


def refused(code, call, *args, **kwargs):
    with pytest.raises(AccessRefused) as caught:
        call(*args, **kwargs)
    assert caught.value.code == code, caught.value.code


@pytest.fixture
def due(acme):
    """The instant just after the default cooling-off period (24 hours)."""
    return timezone.now() + timedelta(hours=24, minutes=1)


def test_sole_administrator_names_a_second_after_the_cooling_off(
    in_acme, acme_admin, acme_basic, due, django_capture_on_commit_callbacks
):
    change = promote(acme_basic, acme_admin)
    assert breakglass.break_glass_available(change, acme_admin)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        started = breakglass.start_break_glass(change, actor=acme_admin, reason="our second admin left")
    assert started.applies_at is not None
    assert timedelta(hours=23, minutes=59) < started.applies_at - timezone.now() <= timedelta(hours=24)
    # Visible and e-mailed: the sole administrator is told (a thief of the account would be seen).
    assert [m.to for m in mail.outbox] == [[acme_admin.email]]
    assert "24 hours" in mail.outbox[0].subject and "/console/approvals/" in mail.outbox[0].body
    assert len(events(in_acme, EventType.CHANGE_BREAK_GLASS)) == 1

    # Not yet due: the runner changes nothing.
    assert run_due_jobs()["break-glass"] == 0
    acme_basic.refresh_from_db()
    assert acme_basic.role.key == BuiltinRole.BASIC

    with time_machine.travel(due, tick=False):
        assert run_due_jobs(due)["break-glass"] == 1
    acme_basic.refresh_from_db()
    change.refresh_from_db()
    assert acme_basic.role.key == BuiltinRole.ADMINISTRATOR
    assert change.status == PendingChange.Status.APPROVED and change.decided_by is None
    applied = events(in_acme, EventType.CHANGE_APPLIED_AFTER_COOLING_OFF)
    assert len(applied) == 1 and applied[0].actor_id is None
    # Idempotent: a second run applies nothing more.
    with time_machine.travel(due + timedelta(minutes=1), tick=False):
        assert run_due_jobs()["break-glass"] == 0


def test_cooling_off_period_comes_from_settings(in_acme, acme_admin, acme_basic, settings):
    settings.BREAK_GLASS_COOLING_OFF_HOURS = 48
    started = breakglass.start_break_glass(promote(acme_basic, acme_admin), actor=acme_admin)
    assert started.applies_at - timezone.now() > timedelta(hours=47)


def test_withdrawn_during_the_cooling_off_never_applies(in_acme, acme_admin, acme_basic, due):
    change = breakglass.start_break_glass(promote(acme_basic, acme_admin), actor=acme_admin)
    changes.reject_change(change, actor=acme_admin, reason="changed my mind")
    with time_machine.travel(due, tick=False):
        assert run_due_jobs(due)["break-glass"] == 0
    acme_basic.refresh_from_db()
    assert acme_basic.role.key == BuiltinRole.BASIC


def test_refused_while_another_administrator_can_approve(in_acme, acme_admin, acme_basic):
    UserFactory(tenant=in_acme, email="admin2@acme.example", role_key=BuiltinRole.ADMINISTRATOR)
    change = promote(acme_basic, acme_admin)
    assert not breakglass.break_glass_available(change, acme_admin)
    refused(ErrorCode.INVALID, breakglass.start_break_glass, change, actor=acme_admin)
    change.refresh_from_db()
    assert change.applies_at is None and not events(in_acme, EventType.CHANGE_BREAK_GLASS)


def test_an_inactive_administrator_does_not_count_as_another_approver(in_acme, acme_admin, acme_basic):
    other = UserFactory(tenant=in_acme, email="admin2@acme.example", role_key=BuiltinRole.ADMINISTRATOR)
    other.is_active = False
    other.save(update_fields=["is_active"])
    change = promote(acme_basic, acme_admin)
    assert breakglass.start_break_glass(change, actor=acme_admin).applies_at is not None


def test_only_the_requester_starts_it(in_acme, acme_admin, acme_basic):
    change = promote(acme_basic, acme_admin)
    advanced = UserFactory(tenant=in_acme, email="adv@acme.example", role_key=BuiltinRole.ADVANCED)
    refused(ErrorCode.NOT_ALLOWED, breakglass.start_break_glass, change, actor=advanced)
    breakglass.start_break_glass(change, actor=acme_admin)
    refused(ErrorCode.ALREADY_DECIDED, breakglass.start_break_glass, change, actor=acme_admin)


def test_another_tenants_change_is_refused(in_acme, acme_admin, acme_basic, globex_admin):
    change = promote(acme_basic, acme_admin)
    refused(ErrorCode.CROSS_TENANT, breakglass.start_break_glass, change, actor=globex_admin)


def test_requester_deactivated_during_the_cooling_off_gets_nothing(in_acme, acme_admin, acme_basic, due):
    change = breakglass.start_break_glass(promote(acme_basic, acme_admin), actor=acme_admin)
    acme_admin.is_active = False
    acme_admin.save(update_fields=["is_active"])
    with time_machine.travel(due, tick=False):
        assert run_due_jobs(due)["break-glass"] == 0
    acme_basic.refresh_from_db()
    change.refresh_from_db()
    assert acme_basic.role.key == BuiltinRole.BASIC and change.status == PendingChange.Status.REJECTED
    assert events(in_acme, EventType.CHANGE_REJECTED)[0].actor_id is None


def test_a_second_administrator_may_still_decide_during_the_cooling_off(in_acme, acme_admin, acme_basic):
    change = breakglass.start_break_glass(promote(acme_basic, acme_admin), actor=acme_admin)
    other = UserFactory(tenant=in_acme, email="admin2@acme.example", role_key=BuiltinRole.ADMINISTRATOR)
    changes.reject_change(change, actor=other, reason="not agreed")
    change.refresh_from_db()
    assert change.status == PendingChange.Status.REJECTED
