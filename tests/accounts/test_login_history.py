"""Login history from the audit log (each user, and administrators for their users); LOG-6."""

import logging

from django.test import Client

from accounts.auth_services import login_history
from accounts.scoping import tenant_scope
from audit.events import EventType
from audit.models import AuditEvent
from tests.accounts.conftest import password_only
from tests.accounts.mfa_helpers import code_at, device_of, give_device, now_t
from tests.conftest import login
from tests.factories import PASSWORD

SESSION = "portcullis_session"

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


def test_history_shows_time_address_browser_outcome_and_factor(acme_basic, clock):
    Client(HTTP_USER_AGENT=FIREFOX, REMOTE_ADDR="198.51.100.7").post(
        "/accounts/login/", {"username": acme_basic.email, "password": "wrong password!"}
    )
    client = login(Client(HTTP_USER_AGENT=FIREFOX, REMOTE_ADDR="198.51.100.8"), acme_basic)
    rows = login_history(acme_basic)
    ok, failed = rows[0], rows[-1]
    assert ok["success"] and ok["factor"] == "totp" and ok["address"] == "198.51.100.8"
    assert ok["browser"] == "Firefox · Linux"
    assert not failed["success"] and failed["factor"] == "password" and failed["address"] == "198.51.100.7"
    page = client.get("/accounts/security/history/").content.decode()
    assert "198.51.100.7" in page and "Login failed" in page and "Login succeeded" in page


def test_mfa_failures_appear_in_the_history(acme_basic, clock):
    device = give_device(acme_basic)
    client, _ = password_only(acme_basic)
    client.post("/accounts/mfa/", {"device": device.persistent_id, "code": "000000"})
    [row, *_] = login_history(acme_basic)
    assert row["event_type"] == "auth.mfa_failed" and row["factor"] == "totp" and not row["success"]


def test_administrators_read_their_users_history_and_nobody_elses(acme_admin, acme_basic, globex_admin):
    login(Client(), acme_basic)
    admin = login(Client(), acme_admin)
    page = admin.get(f"/accounts/users/{acme_basic.pk}/login-history/")
    assert page.status_code == 200 and "Login succeeded" in page.content.decode()
    assert admin.get(f"/accounts/users/{globex_admin.pk}/login-history/").status_code == 404
    basic = login(Client(), acme_basic)
    assert basic.get(f"/accounts/users/{acme_admin.pk}/login-history/").status_code == 403


def test_history_holds_only_the_users_own_events(acme_admin, acme_basic):
    login(Client(), acme_admin)
    assert login_history(acme_basic) == []


def test_log6_no_password_code_or_session_id_in_any_authentication_event(acme_basic, clock, caplog):
    """LOG-6: a whole day of logins, failures, MFA failures, lockouts and logouts, then a search of everything
    written: each audit event (its canonical bytes, before/after/reason/labels, user agent, address, request
    id), the clear personal values, every other row of the database (axes' attempt logs …) but the session
    store itself, and the application log as both LOG_FORMATs write it."""
    from django.db import connection

    from audit.models import PersonalValue
    from tests.portal.test_log7_logging import configured

    caplog.set_level(logging.DEBUG)
    device = give_device(acme_basic)
    key = _key(device)
    secrets_seen = {PASSWORD, "wrong password one"}
    browser = Client(HTTP_USER_AGENT=FIREFOX)
    browser.post("/accounts/login/", {"username": acme_basic.email, "password": "wrong password one"})
    client, _ = password_only(acme_basic, Client(HTTP_USER_AGENT=FIREFOX))
    secrets_seen.add(client.cookies[SESSION].value)  # the password-only session
    bad = "123123"
    client.post("/accounts/mfa/", {"device": device.persistent_id, "code": bad})
    clock.shift(30)
    good = code_at(key, now_t())
    client.post("/accounts/mfa/", {"device": device.persistent_id, "code": good})
    secrets_seen |= {bad, good, client.cookies[SESSION].value}  # the verified session (a new id, SES-1)
    client.post("/accounts/mfa/", {"device": device.persistent_id, "code": good})
    client.post("/accounts/logout/")
    for n in range(6):
        Client(HTTP_USER_AGENT=FIREFOX).post(
            "/accounts/login/", {"username": acme_basic.email, "password": f"guess number {n}"}
        )
        secrets_seen.add(f"guess number {n}")
    assert len(secrets_seen) == 12  # two session ids, distinct from each other
    with tenant_scope(acme_basic.tenant):
        events = list(AuditEvent.objects.all())
        personal = [row.values for row in PersonalValue.objects.all()]
    assert len(events) >= 10 and sum(e.user_agent == FIREFOX for e in events) >= 8  # the fields searched are filled
    kinds = {e.event_type for e in events}
    assert {
        EventType.LOGIN_FAILED,
        EventType.MFA_FAILED,
        EventType.LOGIN_SUCCEEDED,
        EventType.LOGOUT,
        EventType.LOCKOUT,
    } <= kinds, kinds
    texts = {
        "audit events": " ".join(
            f"{e.canonical} {e.before} {e.after} {e.reason} {e.target_label} {e.actor_label} {e.user_agent} "
            f"{e.address} {e.request_id}"
            for e in events
        ),
        "personal values": " ".join(personal),
    }
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            if table != "django_session":  # the session store holds its own ids, by definition
                cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
                texts[table] = repr(cursor.fetchall())
    assert caplog.records, "the application log wrote nothing: nothing to search"
    for name in ("text", "json"):
        formatter = configured(name)
        texts[f"log ({name})"] = "\n".join(formatter.format(record) for record in caplog.records)
    for where, text in texts.items():
        for secret in secrets_seen:
            assert secret not in text, f"{secret!r} in {where}"


def _key(device):
    with tenant_scope(device.tenant):
        return device_of(device.user).key_bytes()
