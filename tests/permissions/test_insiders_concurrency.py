"""INS-2 under concurrency: two Administrators demote each other at the same moment; exactly one
demotion passes and the tenant keeps an active administrator (the tenant row lock serializes them).

A handshake, not a sleep: the first transaction demotes, then holds its transaction open until the
database shows the second one waiting on a lock (or the second one has finished), and only then
commits. Without the lock both demotions passed, each seeing the other still an administrator."""

import threading
import time

import pytest
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction

from accounts.models import User
from accounts.scoping import tenant_scope
from permissions.models import BuiltinRole
from permissions.services import roles
from permissions.services.errors import AccessRefused, ErrorCode
from permissions.services.hierarchy import has_active_administrator
from tests.factories import UserFactory, builtin_role

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
HANDSHAKE_TIMEOUT = 30.0


def _waiting_on_lock(observer, pid: int) -> bool:
    """Read from a connection of its own, in autocommit: a transaction sees one snapshot of
    pg_stat_activity, so the open transaction itself could never see the other one start waiting."""
    with observer.cursor() as cursor:
        cursor.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid])
        row = cursor.fetchone()
    return bool(row) and row[0] == "Lock"


@pytest.mark.parametrize("round_", range(3))
def test_ins2_two_concurrent_demotions_cannot_both_pass(acme, round_):
    first = UserFactory(tenant=acme, email="admin@acme.example", role_key=BuiltinRole.ADMINISTRATOR)
    second = UserFactory(tenant=acme, email="admin2@acme.example", role_key=BuiltinRole.ADMINISTRATOR)
    basic = builtin_role(acme)
    demoted_one = threading.Event()  # the first transaction demoted, and is still open
    second_pid: list[int] = []
    second_done = threading.Event()
    outcomes: dict[str, str] = {}
    errors: list[BaseException] = []

    def one():  # first demotes second, then waits until the other transaction is blocked or done
        observer = connections.create_connection(DEFAULT_DB_ALIAS)
        try:
            with tenant_scope(acme), transaction.atomic():
                actor, target = User.objects.get(pk=first.pk), User.objects.get(pk=second.pk)  # its own rows
                roles.change_user_role(target, basic, actor=actor, reason="race")
                demoted_one.set()
                deadline = time.monotonic() + HANDSHAKE_TIMEOUT
                while not second_done.is_set() and not (second_pid and _waiting_on_lock(observer, second_pid[0])):
                    assert time.monotonic() < deadline, "the second transaction neither blocked nor finished"
                    second_done.wait(0.01)
            outcomes["one"] = "passed"
        except AccessRefused as error:
            outcomes["one"] = error.code
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            errors.append(error)
        finally:
            observer.close()
            connection.close()

    def two():  # second demotes first while the first transaction is open
        try:
            connection.ensure_connection()
            second_pid.append(connection.connection.info.backend_pid)
            assert demoted_one.wait(HANDSHAKE_TIMEOUT)
            with tenant_scope(acme), transaction.atomic():
                actor, target = User.objects.get(pk=second.pk), User.objects.get(pk=first.pk)
                roles.change_user_role(target, basic, actor=actor, reason="race")
            outcomes["two"] = "passed"
        except AccessRefused as error:
            outcomes["two"] = error.code
        except BaseException as error:  # noqa: BLE001
            errors.append(error)
        finally:
            second_done.set()
            connection.close()

    threads = [threading.Thread(target=one), threading.Thread(target=two)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(HANDSHAKE_TIMEOUT * 2)
    assert not errors, errors
    assert outcomes == {"one": "passed", "two": ErrorCode.LAST_ADMINISTRATOR}
    assert has_active_administrator(acme.pk)


def test_a_rejection_racing_an_approval_waits_for_it_and_is_refused(acme):
    """reject_change locks the pending change's row before it decides: a rejection made while an approval's
    transaction is open waits for it, reads the change approved and refuses. Without the lock it read the
    change still pending and overwrote the approval, while the grant it gave stayed live."""
    from permissions.models import PendingChange
    from permissions.services import changes, grants
    from permissions.vocabulary import Action
    from tests.permissions.conftest import module

    proposer = UserFactory(tenant=acme, email="admin@acme.example", role_key=BuiltinRole.ADMINISTRATOR)
    approver = UserFactory(tenant=acme, email="admin2@acme.example", role_key=BuiltinRole.ADMINISTRATOR)
    customer = UserFactory(tenant=acme)
    with tenant_scope(acme):
        change = grants.grant(
            actor=proposer, module=module(acme, "users"), user=customer, actions=[Action.VIEW], reason="helpdesk"
        )
    assert isinstance(change, PendingChange)
    approved = threading.Event()
    rejecter_pid: list[int] = []
    rejecter_done = threading.Event()
    outcomes: dict[str, str] = {}
    errors: list[BaseException] = []

    def approve():
        observer = connections.create_connection(DEFAULT_DB_ALIAS)
        try:
            with tenant_scope(acme), transaction.atomic():
                changes.approve_change(PendingChange.objects.get(pk=change.pk), actor=approver)
                approved.set()
                deadline = time.monotonic() + HANDSHAKE_TIMEOUT
                while not rejecter_done.is_set() and not (rejecter_pid and _waiting_on_lock(observer, rejecter_pid[0])):
                    assert time.monotonic() < deadline, "the rejection neither blocked nor finished"
                    rejecter_done.wait(0.01)
            outcomes["approve"] = "passed"
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            errors.append(error)
        finally:
            observer.close()
            connection.close()

    def reject():
        try:
            connection.ensure_connection()
            rejecter_pid.append(connection.connection.info.backend_pid)
            with tenant_scope(acme):
                stale = PendingChange.objects.get(pk=change.pk)  # the queue page, loaded before the approval
            assert approved.wait(HANDSHAKE_TIMEOUT)
            with tenant_scope(acme):
                changes.reject_change(stale, actor=proposer, reason="withdrawn")
            outcomes["reject"] = "passed"
        except AccessRefused as error:
            outcomes["reject"] = error.code
        except BaseException as error:  # noqa: BLE001
            errors.append(error)
        finally:
            rejecter_done.set()
            connection.close()

    threads = [threading.Thread(target=approve), threading.Thread(target=reject)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(HANDSHAKE_TIMEOUT * 2)
    assert not errors, errors
    assert outcomes == {"approve": "passed", "reject": ErrorCode.ALREADY_DECIDED}
    with tenant_scope(acme):
        assert PendingChange.objects.get(pk=change.pk).status == PendingChange.Status.APPROVED
