"""DP-3, issue 8: deleting (crypto-shredding) a tenant destroys its data key and the clear personal data of its
audit trail, leaves other tenants untouched, and both logs still verify; ``manage.py shred_tenant``."""

import base64
import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client

from accounts import demo
from accounts.models import User
from accounts.scoping import tenant_scope
from audit.events import EventType
from audit.export import export_lines
from audit.models import AuditEvent, PersonalValue
from audit.personal import attach
from audit.verify import verify_tenant
from audit.verify_export import verify_lines
from vault import services
from vault.models import TenantKey

AUDIT_TABLES = ("audit_auditevent", "audit_personalvalue", "audit_checkpoint")


def people_of(tenant) -> set[str]:
    """The e-mails and full names of the tenant's users (lowercase)."""
    rows = User.objects.dangerously_all_tenants().filter(tenant=tenant).values_list("email", "full_name")
    return {value.lower() for row in rows for value in row if value}


def audit_table_text(tenant=None) -> str:
    """Every row of every audit table (of one tenant), as an attacker with a raw SQL read sees them."""
    chunks = []
    with connection.cursor() as cursor:
        for table in AUDIT_TABLES:
            if tenant is None:
                cursor.execute(f"SELECT * FROM {table}")  # noqa: S608
            else:
                cursor.execute(f"SELECT * FROM {table} WHERE tenant_id = %s", [tenant.pk])  # noqa: S608
            chunks += [repr(row) for row in cursor.fetchall()]
    return "\n".join(chunks).lower()


def shredded_events(tenant) -> list[AuditEvent]:
    with tenant_scope(tenant):
        return list(AuditEvent.objects.filter(event_type=EventType.TENANT_SHREDDED))


def test_dp3_shredding_a_tenant_leaves_none_of_its_people_readable_in_the_audit_tables(db):
    acme, globex = demo.seed()
    acme_people, globex_people = people_of(acme), people_of(globex)
    assert len(acme_people) >= 20 and "admin@acme.example" in acme_people
    before = audit_table_text()
    assert "admin@acme.example" in before  # readable (in the erasable table) until the tenant is shredded
    done = services.shred_tenant(acme, reason="contract ended")
    assert done.keys >= 2 and done.personal_values > 100
    # No acme e-mail anywhere in the audit tables; no acme e-mail or name in acme's rows (the demo gives
    # globex's people the same names).
    after, acme_rows = audit_table_text(), audit_table_text(acme)
    assert sorted(p for p in acme_people if "@" in p and p in after) == []
    assert sorted(p for p in acme_people if p in acme_rows) == []
    assert sorted(p for p in globex_people if p not in audit_table_text(globex)) == []  # the other tenant is untouched
    with tenant_scope(acme):
        assert not PersonalValue.objects.exists()
        assert not TenantKey.objects.filter(wrapped__isnull=False).exists()
    [event] = shredded_events(acme)
    assert event.after == {
        "keys": done.keys,
        "personal_values_erased": done.personal_values,
        "users_forgotten": done.users,
    }
    # Its people are forgotten outside the audit trail too: nobody can log in, no e-mail or name is left.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT email, full_name, password, is_active FROM accounts_user WHERE tenant_id = %s", [acme.pk]
        )
        users = cursor.fetchall()
    assert len(users) == done.users >= 15
    assert not [u for u in users if u[0] in acme_people or (u[1] and u[1] in acme_people) or u[3]]
    assert all(u[2].startswith("!") for u in users)  # unusable passwords
    assert (
        Client()
        .post("/accounts/login/", {"username": "admin@acme.example", "password": demo.DEMO_PASSWORD})
        .status_code
        == 200
    )
    assert event.reason == "contract ended"
    # Globex's viewer still reads its clear values.
    with tenant_scope(globex):
        granted = [
            e for e in AuditEvent.objects.filter(event_type=EventType.GRANT_CREATED) if e.payload["after"]["user"]
        ]
    assert granted and all(e.after["user"].endswith("@globex.example") for e in attach(granted))
    # Both chains verify, in the database, through the command, and from an export.
    assert verify_tenant(acme).ok and verify_tenant(globex).ok
    out = StringIO()
    call_command("audit_verify", stdout=out)
    assert "acme: OK" in out.getvalue() and "globex: OK" in out.getvalue()
    lines = list(export_lines(acme))
    assert verify_lines(lines)[1] == []
    records = [json.loads(line) for line in lines]
    assert not [r for r in records if r.get("personal")]
    canonical = " ".join(base64.b64decode(r["canonical"]).decode() for r in records if r["record"] == "event")
    assert not [p for p in acme_people if p in canonical.lower()]


def test_shredding_twice_is_harmless(acme_basic):
    first = services.shred_tenant(acme_basic.tenant, reason="contract ended")
    second = services.shred_tenant(acme_basic.tenant, reason="again")
    assert second.keys == 0 and second.personal_values == 0 and first.personal_values >= 0
    assert len(shredded_events(acme_basic.tenant)) == 2
    assert verify_tenant(acme_basic.tenant).ok


def test_the_command_refuses_an_unknown_tenant_in_one_line(acme):
    with pytest.raises(CommandError) as refused:
        call_command("shred_tenant", "nope", "--reason", "test", "--yes", stdout=StringIO())
    assert str(refused.value) == "no tenant 'nope'" and refused.value.returncode == 1
    acme.refresh_from_db()
    assert acme.is_active


def test_the_command_needs_the_slug_typed_to_confirm(acme_basic, globex_admin):
    acme = acme_basic.tenant
    out = StringIO()
    with pytest.raises(CommandError) as refused:
        call_command("shred_tenant", "acme", "--reason", "contract ended", stdin=StringIO("globex\n"), stdout=out)
    assert "not confirmed" in str(refused.value)
    assert "Type the tenant's slug to confirm" in out.getvalue()
    acme.refresh_from_db()
    assert acme.is_active and not shredded_events(acme)
    with tenant_scope(acme):
        assert PersonalValue.objects.exists()

    out = StringIO()
    call_command("shred_tenant", "acme", "--reason", "contract ended", stdin=StringIO("acme\n"), stdout=out)
    acme.refresh_from_db()
    assert not acme.is_active
    [event] = shredded_events(acme)
    assert event.reason == "contract ended" and event.actor_id is None
    assert "Shredded tenant acme (Acme Trading)" in out.getvalue() and "personal value(s) erased" in out.getvalue()
    with tenant_scope(acme):
        assert not PersonalValue.objects.exists()
    with tenant_scope(globex_admin.tenant):
        assert PersonalValue.objects.exists()
    assert verify_tenant(acme).ok and verify_tenant(globex_admin.tenant).ok


def test_the_command_with_yes_does_not_ask(acme_basic):
    class Unreadable:
        def readline(self):
            raise AssertionError("--yes must not ask")

    out = StringIO()
    call_command("shred_tenant", "acme", "--reason", "contract ended", "--yes", stdin=Unreadable(), stdout=out)
    assert "Shredded tenant acme" in out.getvalue()
    assert len(shredded_events(acme_basic.tenant)) == 1


def test_the_command_needs_a_reason(acme):
    with pytest.raises(CommandError, match="reason"):
        call_command("shred_tenant", "acme", "--reason", "  ", "--yes", stdout=StringIO())
    acme.refresh_from_db()
    assert acme.is_active
