"""A replacement worker takes over what the retiring one remembered (portal/warmup.py, issue 14).

The retiring worker writes the ids its check API remembers; the replacement reads them again from the
database, in their tenant and at the current version, before its first request. Proved here in one process
(the hooks' order in a real gunicorn: tests/portal/test_gunicorn_recycling.py): after the take-over, the
checks that were remembered cost exactly the statements of a warm process, and fewer than a cold one; the
file is deleted once read; a tampered file (another tenant's ids, values that are not ids, not JSON) loads
nothing it should not and never fails the worker.
"""

from __future__ import annotations

import json
import os

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.scoping import tenant_scope
from api import check
from permissions import engine
from permissions.models import Module
from permissions.services import modules
from portal import warmup
from tests.factories import UserFactory, builtin_role


@pytest.fixture
def hand_overs(tmp_path, monkeypatch):
    monkeypatch.setattr(warmup, "_handover_dir", [tmp_path])
    check.forget()
    engine.clear_process_cache()
    yield tmp_path
    check.forget()
    engine.clear_process_cache()


@pytest.fixture
def checks(acme):
    users = [UserFactory(tenant=acme, role=builtin_role(acme, "basic")) for _ in range(4)]
    with tenant_scope(acme):
        reports = Module.objects.get(key="reports")
        items = [modules.create_resource(actor=None, module=reports, title=f"R{n}") for n in range(3)]
    body = {
        "checks": [
            {"subject": user.pk, "action": "view", "target": {"module": "reports", "resource": item.pk}}
            for user in users
            for item in items
        ]
    }
    return users, items, body


def _statements(tenant, body) -> tuple[int, list]:
    """Statements of preparing and answering ``body`` (what the check API does, without the HTTP layer)."""
    with CaptureQueriesContext(connection) as seen:
        prepared = check.prepare_batch(tenant.pk, body)
        answers = [engine.can(*item) for item in prepared]
    return len(seen), answers


def test_the_replacement_answers_remembered_checks_with_the_statements_of_a_warm_process(acme, hand_overs, checks):
    users, items, body = checks
    cold, answers = _statements(acme, body)
    warm, again = _statements(acme, body)
    assert again == answers and warm < cold

    warmup.hand_over()
    written = hand_overs / f"{os.getpid()}.json"
    data = json.loads(written.read_text())
    assert sorted(data[str(acme.pk)]["subjects"]) == sorted(u.pk for u in users)
    assert sorted(data[str(acme.pk)]["resources"]) == sorted(i.pk for i in items)

    check.forget()
    engine.clear_process_cache()
    assert warmup.take_over(os.getpid()) == len(users) + len(items)
    assert not written.exists()
    taken_over, after = _statements(acme, body)
    assert after == answers
    assert taken_over == warm


def test_without_a_hand_over_the_replacement_starts_cold(acme, hand_overs, checks):
    _users, _items, body = checks
    cold, _answers = _statements(acme, body)
    check.forget()
    engine.clear_process_cache()
    assert warmup.take_over(os.getpid()) == 0  # nothing was handed over
    assert warmup.take_over(None) == 0  # a first worker replaces nobody
    again, _answers = _statements(acme, body)
    assert again == cold


def test_another_tenants_ids_in_the_file_load_nothing(acme, globex, hand_overs, checks):
    users, items, _body = checks
    (hand_overs / "41.json").write_text(json.dumps({str(globex.pk): {"subjects": [u.pk for u in users]}}))
    warmup.take_over(41)
    assert check.remembered() == {}  # acme's users are not globex's: nothing read


@pytest.mark.parametrize(
    "content",
    [
        "not json",
        "[1, 2]",
        json.dumps({"x1": {"subjects": [1]}}),
        json.dumps({"9" * 30: {"subjects": [1]}}),  # not a database id
        json.dumps({"1": {"subjects": ["1", -5, 2**70, True, None, 1.5]}}),
        json.dumps({"1": ["subjects"]}),
    ],
)
def test_a_malformed_file_loads_nothing_and_is_removed(acme, hand_overs, content):
    path = hand_overs / "42.json"
    path.write_text(content)
    warmup.take_over(42)
    assert check.remembered() == {}
    assert not path.exists()


def test_the_hand_over_is_bounded_and_keeps_the_most_recent(acme, hand_overs, monkeypatch):
    monkeypatch.setattr(check, "HANDOVER_SUBJECTS", 3)
    users = [UserFactory(tenant=acme, role=builtin_role(acme, "basic")) for _ in range(5)]
    for user in users:  # remembered one after the other: the last three are the most recent
        check.load_subjects(acme.pk, [{"subject": user.pk}])
    assert sorted(check.remembered()[acme.pk]["subjects"]) == sorted(u.pk for u in users[-3:])
