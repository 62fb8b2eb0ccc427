"""Issue 19: the audit viewer's export follows its filters. "Export these N events (CSV)" sends the filters
shown and downloads exactly the events they select (recorded, with the filters); the verifiable export stays
the whole log and says so. Only holders of audit: export, after a recent MFA step."""

import csv
import io

from django.db import transaction
from django.test import Client

import audit
from accounts.scoping import tenant_scope
from audit.events import EventType
from audit.models import AuditEvent
from audit.recording import Target
from tests.conftest import login
from tests.factories import UserFactory


def rows_of(response) -> list[dict]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


def test_the_export_button_carries_the_filters_and_names_the_count(admin_client_acme, acme):
    UserFactory(tenant=acme, email="carol@acme.example")
    html = admin_client_acme.get(f"/audit/?event_type={EventType.USER_CREATED}").content.decode()
    form = html.split('data-testid="export-selection"', 1)[1].split("</form>", 1)[0]
    assert f'name="event_type" value="{EventType.USER_CREATED}"' in form
    with tenant_scope(acme):
        count = AuditEvent.objects.filter(event_type=EventType.USER_CREATED).count()
    assert f"Export these {count} events (CSV)" in form
    assert "Export the whole log (verifiable)" in html


def test_the_selection_holds_only_the_filtered_events_and_is_recorded(admin_client_acme, acme, acme_admin):
    carol = UserFactory(tenant=acme, email="carol@acme.example")
    response = admin_client_acme.post("/audit/export/selection.csv", {"event_type": EventType.USER_CREATED})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "selection" in response["Content-Disposition"]
    rows = rows_of(response)
    with tenant_scope(acme):
        expected = list(
            AuditEvent.objects.filter(event_type=EventType.USER_CREATED).order_by("seq").values_list("seq", flat=True)
        )
        recorded = AuditEvent.objects.filter(event_type=EventType.AUDIT_EXPORTED).order_by("-seq").first()
    assert [int(row["position"]) for row in rows] == expected and len(expected) >= 2
    assert {row["event_type"] for row in rows} == {EventType.USER_CREATED}
    assert any(row["target"] == str(carol) for row in rows)
    assert recorded.actor == acme_admin and recorded.after == {"selection": {"event_type": EventType.USER_CREATED}}


def test_a_formula_in_a_value_is_not_run_by_a_spreadsheet(admin_client_acme, acme, acme_admin):
    with transaction.atomic():
        audit.record(
            EventType.USER_CHANGED,
            tenant=acme,
            actor=acme_admin,
            target=Target("demo.thing", "1", "=HYPERLINK(1)"),
            reason="+SUM(1)",
        )
    rows = rows_of(admin_client_acme.post("/audit/export/selection.csv", {"q": "HYPERLINK"}))
    assert rows and all(not value.startswith("=") for row in rows for value in row.values())


def test_the_selection_needs_the_export_right_and_a_post(acme, acme_basic, admin_client_acme):
    assert login(Client(), acme_basic).post("/audit/export/selection.csv").status_code == 403
    assert admin_client_acme.get("/audit/export/selection.csv").status_code == 405
