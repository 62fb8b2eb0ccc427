"""DP-3 in the audit trail: a person's e-mail or name is never in clear in the hashed bytes of an event, wherever
a service puts it (a person named in before/after, a nested value, a target's label), and never in the export's
canonical bytes; the viewer still shows the clear values, and every verifier still verifies."""

import base64
import json
import re

import pytest
from django.db import connection, transaction

import audit
from accounts import demo
from accounts.models import User
from accounts.scoping import tenant_scope
from audit.events import EventType
from audit.export import export_lines
from audit.models import AuditEvent, PersonalValue
from audit.personal import commitment, erase_subject
from audit.recording import Target
from audit.verify import verify_tenant
from audit.verify_export import verify_lines
from permissions.models import Module, PendingChange
from permissions.services import grants
from permissions.vocabulary import Action
from tests.audit.conftest import sql

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def last_event(tenant, **filters) -> AuditEvent:
    with tenant_scope(tenant):
        return AuditEvent.objects.filter(**filters).order_by("-seq").first()


def personal_rows(tenant, seq) -> dict[str, tuple[int | None, dict]]:
    """{field: (subject id, {"salt", "value"})} of one event."""
    with tenant_scope(tenant):
        rows = list(PersonalValue.objects.filter(seq=seq))
    return {field: (row.subject_id, entry) for row in rows for field, entry in row.fields().items()}


def grant_reports(actor, user, reason="quarterly pack"):
    with tenant_scope(actor.tenant):
        reports = Module.objects.get(key="reports")
        return grants.grant(actor=actor, module=reports, user=user, actions=[Action.VIEW], reason=reason)


def demo_people() -> list[tuple[str, str]]:
    """(e-mail, full name) of every user the demo created, in every demo tenant."""
    users = User.objects.dangerously_all_tenants().filter(tenant__isnull=False).values_list("email", "full_name")
    return list(users)


def test_dp3_after_seeding_the_demo_no_person_is_in_clear_in_any_event_nor_in_the_export(db):
    tenants = demo.seed()
    people = demo_people()
    assert len(people) >= 30
    clear = {email.lower() for email, _ in people} | {name.lower() for _, name in people if name}
    with connection.cursor() as cursor:  # the stored bytes themselves, as an attacker reading the table sees them
        cursor.execute("SELECT tenant_id, seq, canonical FROM audit_auditevent")
        stored = cursor.fetchall()
    assert len(stored) > 200
    leaks = [(t, seq, found) for t, seq, text in stored for found in clear if found in text.lower()]
    assert leaks == []
    assert not [(t, seq) for t, seq, text in stored if EMAIL.search(text)]
    for tenant in tenants:
        lines = list(export_lines(tenant))
        records = [json.loads(line) for line in lines]
        events = [r for r in records if r["record"] == "event"]
        for record in events:
            canonical = base64.b64decode(record["canonical"]).decode("utf-8").lower()
            assert not [found for found in clear if found in canonical], record["seq"]
            assert not EMAIL.search(canonical), record["seq"]
        # The clear values travel beside the events (and open their commitments: the verifier checks them).
        beside = {entry["value"].lower() for r in events for entry in r.get("personal", {}).values()}
        assert {email for email, _ in people if email.endswith(f"@{tenant.slug}.example")} <= beside
        header, problems = verify_lines(lines)
        assert problems == [] and header["events"] == len(events)
        assert verify_tenant(tenant).ok


def test_a_person_named_in_an_event_is_a_commitment_under_that_person(acme_admin, acme_basic):
    grant = grant_reports(acme_admin, acme_basic)
    event = last_event(acme_admin.tenant, event_type=EventType.GRANT_CREATED)
    assert acme_basic.email not in event.canonical
    stored = personal_rows(acme_admin.tenant, event.seq)
    subject, entry = stored["after.user"]
    assert subject == acme_basic.pk and entry["value"] == acme_basic.email
    # Recorded as a person commitment: it still says which account it was about once the e-mail is erased.
    assert event.payload["after"]["user"] == {
        "$pii": commitment(bytes.fromhex(entry["salt"]), entry["value"]),
        "id": acme_basic.pk,
    }
    assert event.after["user"] == acme_basic.email
    assert stored["actor"][0] == acme_admin.pk  # the actor's label stays the actor's row
    # Erasing the person erases the value; the chain still verifies.
    assert verify_tenant(acme_admin.tenant).ok
    erase_subject(acme_admin.tenant, acme_basic.pk, actor=acme_admin)
    event = last_event(acme_admin.tenant, event_type=EventType.GRANT_CREATED, target_id=str(grant.pk))
    assert event.after["user"] is None and event.payload["after"]["user"]["id"] == acme_basic.pk
    assert event.actor_label == acme_admin.email  # someone else's values stay
    assert verify_tenant(acme_admin.tenant).ok


def test_the_viewer_shows_the_clear_email_of_a_grants_subject(admin_client_acme, acme_admin, acme_basic):
    grant_reports(acme_admin, acme_basic)
    event = last_event(acme_admin.tenant, event_type=EventType.GRANT_CREATED)
    with connection.cursor() as cursor:
        cursor.execute("SELECT canonical FROM audit_auditevent WHERE id = %s", [event.pk])
        assert acme_basic.email not in cursor.fetchone()[0]
    body = admin_client_acme.get(f"/audit/events/{event.pk}/").content.decode()
    assert acme_basic.email in body
    # The text filter finds the event by the clear e-mail (kept in the erasable table).
    found = admin_client_acme.get("/audit/", {"q": acme_basic.email, "event_type": EventType.GRANT_CREATED})
    assert f"/audit/events/{event.pk}/" in found.content.decode()


def test_any_email_inside_before_or_after_is_committed_even_under_an_unlisted_key(acme, acme_basic):
    before = {"notes": ["call BASIC1@acme.example today", {"a.b~c": "Basic <basic1@acme.example>"}], "level": 2}
    after = {"contact": "someone@elsewhere.example", "count": 3, "ok": True, "nothing": None}
    with transaction.atomic():
        audit.record(
            EventType.USER_CHANGED,
            tenant=acme,
            target=Target(type="demo.thing", id="1", label="thing 1"),
            before=before,
            after=after,
        )
    event = last_event(acme, event_type=EventType.USER_CHANGED)
    assert not EMAIL.search(event.canonical)
    assert event.payload["before"]["level"] == 2 and event.payload["after"]["count"] == 3
    assert (event.before, event.after) == (before, after)
    stored = personal_rows(acme, event.seq)
    # Under the user whose address it is (so erasing them erases it); an unknown address under nobody.
    assert stored["before.notes.0"][0] == acme_basic.pk
    assert stored["before.notes.1.a~1b~0c"][0] == acme_basic.pk
    assert stored["after.contact"][0] is None
    assert verify_tenant(acme).ok
    header, problems = verify_lines(list(export_lines(acme)))
    assert problems == []


def test_a_changed_nested_personal_value_is_detected(acme, acme_basic):
    with transaction.atomic():
        audit.record(
            EventType.USER_CHANGED,
            tenant=acme,
            target=Target(type="demo.thing", id="1", label="thing 1"),
            after={"people": [audit.person(acme_basic)]},
        )
    event = last_event(acme, event_type=EventType.USER_CHANGED)
    assert event.after == {"people": [acme_basic.email]}
    forged = json.dumps({"after.people.0": {"salt": "00" * 32, "value": "someone.else@acme.example"}})
    sql('UPDATE audit_personalvalue SET "values" = %s WHERE tenant_id = %s AND seq = %s', [forged, acme.pk, event.seq])
    report = verify_tenant(acme)
    assert [(p.kind, p.position) for p in report.problems] == [("modified", event.seq)]
    assert "after.people.0" in report.problems[0].detail


def test_a_target_label_that_names_a_person_is_a_commitment(acme_admin, acme_basic):
    with tenant_scope(acme_admin.tenant):
        users = Module.objects.get(key="users")
        change = grants.grant(actor=acme_admin, module=users, user=acme_basic, actions=[Action.VIEW], reason="help")
    assert isinstance(change, PendingChange) and acme_basic.email in change.summary
    event = last_event(acme_admin.tenant, event_type=EventType.CHANGE_REQUESTED)
    assert acme_basic.email not in event.canonical
    assert event.target_label == change.summary
    assert personal_rows(acme_admin.tenant, event.seq)["target"][0] == acme_basic.pk
    # A label with an e-mail address is committed even when the caller did not say whose it is.
    with transaction.atomic():
        audit.record(
            EventType.USER_CHANGED,
            tenant=acme_admin.tenant,
            target=Target(type="demo.thing", id="2", label=f"kept by {acme_basic.email}"),
        )
    event = last_event(acme_admin.tenant, event_type=EventType.USER_CHANGED)
    assert acme_basic.email not in event.canonical and event.target_label == f"kept by {acme_basic.email}"
    assert personal_rows(acme_admin.tenant, event.seq)["target"][0] == acme_basic.pk
    assert verify_tenant(acme_admin.tenant).ok


def test_erase_personal_data_command_erases_one_person_and_the_chain_still_verifies(acme_admin, acme_basic, globex):
    """erase_subject is wired to a platform command: one person's clear values go, the erasure is recorded,
    someone else's values and other tenants stay, the chain verifies."""
    from io import StringIO

    from django.core.management import CommandError, call_command

    from audit.models import AuditEvent

    grant = grant_reports(acme_admin, acme_basic)
    out = StringIO()
    call_command("erase_personal_data", "acme", str(acme_basic.pk), reason="erasure request 2026-17", stdout=out)
    assert f"about user #{acme_basic.pk}" in out.getvalue() and "Erased 0 " not in out.getvalue()
    event = last_event(acme_admin.tenant, event_type=EventType.GRANT_CREATED, target_id=str(grant.pk))
    assert event.after["user"] is None and event.actor_label == acme_admin.email
    erased = AuditEvent.objects.dangerously_all_tenants().filter(
        tenant=acme_admin.tenant, event_type=EventType.PERSONAL_DATA_ERASED
    )
    assert [e.reason for e in erased] == ["erasure request 2026-17"]
    assert verify_tenant(acme_admin.tenant).ok
    with pytest.raises(CommandError, match="no tenant"):
        call_command("erase_personal_data", "nobody", "1", reason="x")
    with pytest.raises(CommandError, match="reason"):
        call_command("erase_personal_data", "acme", str(acme_basic.pk), reason=" ")
