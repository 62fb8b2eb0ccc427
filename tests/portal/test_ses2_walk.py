"""SES-2: CSRF on every state change, and GET never changes state, for every URL pattern.

Both tests walk the URL resolver (``walk`` of the AZ-1 walker, ids filled with the tenant's own objects by its
``own_kwargs``), so a new pattern is covered the day it is added. Each request is bracketed by a snapshot of
every row of every table: a refused forgery changes nothing at all, and a GET writes nothing but the
bookkeeping named in ``bookkeeping`` (the requester's own session, the session registry's idle clock, and
"last used" evidence for access reviews).

- A cross-site form can send only form-encoded bodies: every pattern gets such a POST without the token, and
  Django's CsrfViewMiddleware must refuse it (403, and its refusal logged by ``django.security.csrf``).
- The API's views are ``csrf_exempt`` for Django (a bearer key is no ambient credential), but a *session*
  authenticates them too (PortalSessionAuthentication, a DRF SessionAuthentication), which enforces the
  token itself: every unsafe method with a JSON body and the session cookie but no token answers 403
  "CSRF Failed". Key-authenticated calls carry no cookie and need no token (tests/api/).
"""

import logging

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.urls import resolve, reverse
from rest_framework.authentication import SessionAuthentication
from rest_framework.views import APIView

from accounts.scoping import tenant_scope
from audit.models import AuditEvent
from tests.urlwalk import every_url

UNSAFE = ("post", "put", "patch", "delete")
# Django views exempt from the token, each for a reason a cross-site POST cannot abuse. A forged POST to them must
# still change nothing (the snapshot below).
CSRF_EXEMPT = {
    # The SAML assertion consumer service: the identity provider's page posts the signed answer from its own site
    # (the SAML HTTP-POST binding carries no token of ours). An answer must name a request this portal sent, is
    # accepted once, and signs in only the browser that started the sign-in (tests/sso/test_saml_login.py).
    "sso:saml_acs",
}


def api_view(url):
    """The DRF view class answering ``url``, or None for a Django view."""
    cls = getattr(resolve(url).func, "cls", None)
    return cls if isinstance(cls, type) and issubclass(cls, APIView) else None


def takes_the_session(cls) -> bool:
    return any(isinstance(authenticator, SessionAuthentication) for authenticator in cls().get_authenticators())


def snapshot() -> dict:
    """Every row of every table: table → {primary key: row as a dict}."""
    tables = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            keys = connection.introspection.get_primary_key_columns(cursor, table) or []
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            columns = [column[0] for column in cursor.description]
            rows = {}
            for values in cursor.fetchall():
                row = dict(zip(columns, values, strict=True))
                rows[tuple(row[k] for k in keys) if keys else values] = row
            tables[table] = rows
    return tables


def changes(before: dict, after: dict):
    """(table, "added" | "changed" | "removed", row, the row before) for every difference."""
    for table in before.keys() | after.keys():
        old, new = before.get(table, {}), after.get(table, {})
        for key, row in new.items():
            if key not in old:
                yield table, "added", row, None
            elif old[key] != row:
                yield table, "changed", row, old[key]
        for key, row in old.items():
            if key not in new:
                yield table, "removed", row, None


def _only(row, old, columns) -> bool:
    return {column for column in row if row[column] != old[column]} <= set(columns)


def bookkeeping(change, *, client, user, reading: bool) -> bool:
    """A write that is not a state change of the application."""
    table, what, row, old = change
    if table == "accounts_usersession":
        # The session registry's idle clock: SessionGuardMiddleware moves last_seen once a minute.
        return what == "changed" and row["user_id"] == getattr(user, "pk", None) and _only(row, old, {"last_seen"})
    if not reading:
        return False  # a refused forgery writes nothing else
    if table == "django_session":
        # The requester's own session store (a link's token, a flash message, a form's pending state).
        cookie = client.cookies.get(settings.SESSION_COOKIE_NAME)
        return what != "removed" and cookie is not None and row["session_key"] == cookie.value
    if table == "permissions_usagerecord":
        # "Last used" evidence for access reviews (permissions/usage.py): the reader's own upsert.
        return row["user_id"] == getattr(user, "pk", None) and (what == "added" or _only(row, old, {"last_used_at"}))
    return False


def unexplained(before, after, **context) -> list[str]:
    """The differences between two snapshots that are not ``bookkeeping``."""
    return [f"{c[0]} {c[1]}: {c[2]}" for c in changes(before, after) if not bookkeeping(c, **context)]


def audit_count(tenant) -> int:
    with tenant_scope(tenant):
        return AuditEvent.objects.count()


def csrf_client(logged_in: Client) -> Client:
    """A browser that checks CSRF as a real one is checked, with the session of ``logged_in`` (a verified
    administrator) and a CSRF cookie, as after any visit: only the token is missing from a forgery."""
    client = Client(enforce_csrf_checks=True)
    client.cookies = logged_in.cookies
    assert client.get("/").status_code == 200
    assert settings.CSRF_COOKIE_NAME in client.cookies
    return client


def test_ses2_every_state_change_needs_the_csrf_token(admin_client_acme, acme, acme_admin, caplog):
    """SES-2: a forged POST (and, for the API, PUT, PATCH, DELETE) to every URL pattern is refused and
    changes nothing; the same session with the token gets through (the control)."""
    caplog.set_level(logging.WARNING, logger="django.security.csrf")
    client = csrf_client(admin_client_acme)
    urls = every_url(acme, skip=())
    events = audit_count(acme)
    before, refused = snapshot(), {"django": 0, "api": 0}
    for name, url in urls:
        cls = api_view(url)
        tries = [("post", "application/x-www-form-urlencoded", "")]
        if cls is not None:
            tries += [(method, "application/json", "{}") for method in UNSAFE]
        for method, content_type, body in tries:
            caplog.clear()
            response = getattr(client, method)(url, body, content_type=content_type)
            what = f"{method.upper()} {url} ({content_type}) answered {response.status_code}"
            if name in CSRF_EXEMPT:
                assert response.status_code in (403, 404), what
            elif cls is None:
                assert response.status_code == 403, what
                [refusal] = [r.getMessage() for r in caplog.records if r.name == "django.security.csrf"]
                assert "CSRF token missing" in refusal and url.split("?")[0] in refusal, what
                refused["django"] += 1
            elif not takes_the_session(cls):
                # The session authenticates nothing here (the schema and its docs): nothing to forge.
                assert response.status_code >= 400, what
            elif content_type == "application/json":
                assert response.status_code == 403 and "CSRF Failed" in response.content.decode(), what
                refused["api"] += 1
            else:
                # A form body never reaches the API: its JSON-only parser refuses it (415), else CSRF does.
                assert response.status_code in (403, 415), what
            after = snapshot()
            assert not unexplained(before, after, client=client, user=acme_admin, reading=False), what
            before = after
    assert audit_count(acme) == events
    assert refused["django"] >= 100 and refused["api"] >= 100, refused  # the walk reached the whole site

    # The control: the session survived every forgery (POST /accounts/logout/ among them) and passes with
    # the token, on a page and on the API, so each 403 above was the missing token and nothing else.
    token = client.cookies[settings.CSRF_COOKIE_NAME].value
    assert client.get("/").status_code == 200
    page = client.post(reverse("accounts:set_language"), {"language": "en", "csrfmiddlewaretoken": token})
    assert page.status_code == 302
    api = client.post("/api/v1/groups", {"name": "Made with the token"}, "application/json", HTTP_X_CSRFTOKEN=token)
    assert api.status_code == 201, api.content
    assert audit_count(acme) == events + 1


@pytest.mark.parametrize("who", ["administrator", "anonymous"])
def test_ses2_get_never_changes_state(who, admin_client_acme, acme, acme_admin):
    """SES-2: a GET of every URL pattern (a verified administrator, then a visitor without a session, who
    reaches the links from e-mails) writes no row, no audit event, only the bookkeeping of ``bookkeeping``."""
    client, user = (admin_client_acme, acme_admin) if who == "administrator" else (Client(), None)
    urls = every_url(acme, skip=())
    events = audit_count(acme)
    before, answered = snapshot(), 0
    for name, url in urls:
        response = client.get(url)
        answered += response.status_code == 200
        after = snapshot()
        problems = unexplained(before, after, client=client, user=user, reading=True)
        assert not problems, f"GET {name} {url} ({response.status_code}) changed {problems}"
        before = after
    if who == "administrator":
        # The session lasted the whole walk (nothing logged it out), and the pages answered, not just redirected.
        assert client.get("/").status_code == 200 and answered >= 70, answered
        assert audit_count(acme) == events
    else:
        assert answered >= 4, answered  # login, password reset, the invitation's set-password page …
        assert audit_count(acme) == events


def test_ses2_opening_the_enrolment_page_creates_no_authenticator(admin_client_acme, acme, acme_admin):
    """SES-2: the enrolment page's GET offers to start; only its POST (op=start) creates the pending
    authenticator (a GET once did, dropping another browser's enrolment in progress)."""
    before = snapshot()
    response = admin_client_acme.get(reverse("accounts:mfa_enrol"))
    assert response.status_code == 200 and b'data-testid="mfa-start"' in response.content
    problems = unexplained(before, snapshot(), client=admin_client_acme, user=acme_admin, reading=True)
    assert not problems, f"GET {reverse('accounts:mfa_enrol')} changed {problems}"
