"""The audit viewer: who may see it, filters, constant queries, the diff, Verify now, the export (audited),
control characters escaped (LOG-7), a foreign event id (AZ-1, LOG-8)."""

import json
from datetime import timedelta

from django.db import transaction
from django.test import Client
from django.utils import timezone

import audit
from accounts import services
from accounts.scoping import tenant_scope
from audit.checkpoints import make_checkpoint
from audit.events import EventType
from audit.models import AuditEvent
from audit.recording import Target
from audit.verify_export import verify_lines
from tests.audit.conftest import fill, sql, triggers_off
from tests.conftest import login
from tests.factories import UserFactory
from tests.querycount import assert_constant_queries


def event(tenant, **filters):
    with tenant_scope(tenant):
        return AuditEvent.objects.filter(**filters).order_by("-seq").first()


def test_administrators_see_the_audit_log_and_its_menu_entry(admin_client_acme):
    response = admin_client_acme.get("/audit/")
    assert response.status_code == 200
    assert b'href="/audit/"' in response.content  # the menu entry
    assert b"Verify now" in response.content


def test_other_roles_are_refused_and_have_no_menu_entry(acme_basic):
    client = login(Client(), acme_basic)
    assert client.get("/audit/").status_code == 403
    assert client.post("/audit/verify/").status_code == 403
    assert client.post("/audit/export/").status_code == 403
    assert b'href="/audit/"' not in client.get("/").content


def test_anonymous_visitors_are_sent_to_login(db):
    response = Client().get("/audit/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_an_inactive_administrator_cannot_view(acme_admin):
    from audit.access import can_view_audit

    acme_admin.is_active = False
    assert not can_view_audit(acme_admin)


def test_the_log_shows_only_the_own_tenant(admin_client_acme, globex_admin):
    body = admin_client_acme.get("/audit/").content.decode()
    assert "admin@acme.example" in body
    assert "globex" not in body.lower()


def test_filters_by_actor_target_user_type_date_and_text(admin_client_acme, acme_admin, acme_basic):
    tenant = acme_admin.tenant
    other = UserFactory(tenant=tenant, email="other@acme.example")
    services.deactivate_user(other, actor=acme_basic, reason="rotation")  # while acme_basic is active
    services.deactivate_user(acme_basic, actor=acme_admin, reason="contract ended")

    def listed(**params):
        response = admin_client_acme.get("/audit/", params)
        assert response.status_code == 200
        return [e.seq for e in response.context["events"]]

    deactivated = event(tenant, event_type=EventType.USER_DEACTIVATED, target_id=str(acme_basic.pk)).seq
    by_basic = event(tenant, event_type=EventType.USER_DEACTIVATED, target_id=str(other.pk)).seq
    assert listed(actor=acme_basic.pk) == [by_basic]
    assert set(listed(target_user=acme_basic.pk)) >= {deactivated} and by_basic not in listed(target_user=acme_basic.pk)
    assert listed(event_type=EventType.USER_DEACTIVATED) == [deactivated, by_basic]  # newest first
    assert listed(q="contract ended") == [deactivated]
    created = event(tenant, event_type=EventType.USER_CREATED, target_id=str(other.pk)).seq
    assert listed(q="other@acme") == [created]  # found through the erasable personal values
    today = timezone.localdate()
    assert len(listed(date_from=today, date_to=today)) == len(listed())
    assert listed(date_to=today - timedelta(days=1)) == []
    assert listed(actor="not-a-number") == listed()  # an invalid filter narrows nothing


def test_the_list_takes_a_constant_number_of_queries(admin_client_acme, acme_admin):
    tenant = acme_admin.tenant

    def add(count):
        for i in range(count):
            with transaction.atomic():
                audit.record(
                    EventType.USER_CHANGED,
                    tenant=tenant,
                    actor=acme_admin,
                    target=Target("accounts.user", str(acme_admin.pk), f"person {i}"),
                    after={"email": f"p{i}@acme.example"},
                )

    add(3)
    assert_constant_queries(admin_client_acme, "/audit/", lambda: add(60))
    assert len(admin_client_acme.get("/audit/").context["events"]) == 50


def test_detail_shows_who_what_and_the_before_after_diff(admin_client_acme, acme_admin, acme_basic):
    services.deactivate_user(acme_basic, actor=acme_admin, reason="left")
    shown = event(acme_admin.tenant, event_type=EventType.USER_DEACTIVATED)
    response = admin_client_acme.get(f"/audit/events/{shown.pk}/")
    assert response.status_code == 200
    assert response.context["diff"] == [{"field": "is_active", "before": True, "after": False, "changed": True}]
    body = response.content.decode()
    assert "admin@acme.example" in body and "left" in body and shown.leaf_hash in body


def test_log7_control_characters_are_escaped_in_pages(admin_client_acme, acme_admin):
    """LOG-7 in the audit viewer's pages; the application log is tested in tests/portal/test_log7_logging.py,
    the operators' commands in tests/audit/test_log7_commands.py."""
    tenant = acme_admin.tenant
    with transaction.atomic():
        audit.record(
            EventType.USER_CHANGED,
            tenant=tenant,
            actor=acme_admin,
            target=Target("demo.thing", "1\x1b[31m", "evil\r\nFAKE LINE"),
            reason="bell\x07 and \x1b[2J",
        )
    shown = event(tenant, event_type=EventType.USER_CHANGED)
    body = admin_client_acme.get(f"/audit/events/{shown.pk}/").content.decode()
    listing = admin_client_acme.get("/audit/").content.decode()
    for page in (body, listing):
        assert "\x1b" not in page and "\x07" not in page and "evil\r\n" not in page
    assert "\\x1b[2J" in body and "evil\\x0d\\x0aFAKE LINE" in body
    from audit.escaping import escape_controls

    assert escape_controls("a\u202eb\u2028c\x9b") == "a\\u202eb\\u2028c\\x9b"


def test_verify_now_shows_ok_then_the_problem(admin_client_acme, acme_admin):
    checkpoint = make_checkpoint(acme_admin.tenant)
    with tenant_scope(acme_admin.tenant):
        assert checkpoint.tree_size == AuditEvent.objects.count()
    response = admin_client_acme.post("/audit/verify/")
    assert response.status_code == 200 and response.context["report"].ok
    assert b"OK:" in response.content
    assert response.context["checkpoints"][0].tree_size == checkpoint.tree_size
    assert b"/audit/keys.json" in response.content
    with triggers_off():
        sql("UPDATE audit_auditevent SET canonical = REPLACE(canonical, 'administrator', 'basic')")
    response = admin_client_acme.post("/audit/verify/")
    assert not response.context["report"].ok
    body = response.content.decode()
    assert "<td>Modified</td>" in body and "its content does not match its leaf hash" in body


def test_verify_now_speaks_the_readers_language(admin_client_acme, acme_admin):
    """The problems' kinds and texts are translated, their values filled in (the verifier itself has no Django)."""
    from django.utils import translation

    make_checkpoint(acme_admin.tenant)
    with triggers_off():
        sql("DELETE FROM audit_auditevent WHERE seq = 1")
    admin_client_acme.post("/accounts/language/", {"language": "zh-hans", "next": "/"})
    body = admin_client_acme.post("/audit/verify/").content.decode()
    with translation.override("zh-hans"):
        kind, text = translation.gettext("Missing"), translation.gettext("position(s) {first}..{last} missing")
    assert kind != "Missing" and text != "position(s) {first}..{last} missing"
    assert f"<td>{kind}</td>" in body and text.format(first=1, last=1) in body


def test_verify_needs_post(admin_client_acme):
    assert admin_client_acme.get("/audit/verify/").status_code == 405


def test_the_export_download_is_audited_and_verifies(admin_client_acme, acme_admin):
    tenant = acme_admin.tenant
    fill(tenant, 3)
    make_checkpoint(tenant)
    response = admin_client_acme.post("/audit/export/", {"proofs": "1"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/x-ndjson"
    assert response["Content-Disposition"].startswith('attachment; filename="audit-acme-')
    lines = b"".join(response.streaming_content).decode().splitlines()
    header, problems = verify_lines(lines)
    assert problems == [] and header["tenant"]["slug"] == "acme"
    exported = event(tenant, event_type=EventType.AUDIT_EXPORTED)
    assert exported.actor == acme_admin and exported.after == {"proofs": True}
    assert json.loads(lines[-1])["seq"] == exported.seq  # the export includes its own record


def test_az1_log8_a_foreign_event_is_404_and_a_denied_event(admin_client_acme, acme_admin, globex_admin):
    foreign = event(globex_admin.tenant, event_type=EventType.USER_CREATED)
    response = admin_client_acme.get(f"/audit/events/{foreign.pk}/")
    assert response.status_code == 404
    assert globex_admin.email.encode() not in response.content
    denied = event(acme_admin.tenant, event_type=EventType.ACCESS_DENIED)
    assert denied is not None and denied.actor == acme_admin
    assert event(globex_admin.tenant, event_type=EventType.ACCESS_DENIED) is None


def test_a_creation_diff_lists_each_new_field():
    from audit.filters import diff

    assert diff(None, {"role": "basic", "is_active": True}) == [
        {"field": "is_active", "before": None, "after": True, "changed": True},
        {"field": "role", "before": None, "after": "basic", "changed": True},
    ]
    assert diff({"a": 1}, None) == [{"field": "a", "before": 1, "after": None, "changed": True}]
    assert diff(None, None) == []
