"""DP-4: no sensitive data in URLs; authenticated responses carry ``Cache-Control: no-store``, for every URL.

The walk is the AZ-1 walker's (``walk`` over the URL resolver, ids filled with the tenant's own objects by
``own_kwargs``), so a new pattern is walked the day it is added. Every GET is sent by each kind of caller the
portal knows: a verified administrator, a verified basic user, a session that passed the password only (the
MFA step, MFA-9), a platform operator in Django's admin, an API key and a SCIM key, and a visitor with no
session at all. Then:

- every GET answering 200 to a caller with credentials carries ``no-store`` (file downloads and CSV exports
  included; /healthz too, which sends it to anyone). The scripts and styles a page loads from the portal itself
  (not /static/) are fetched too: the API docs' start-up script is one. Static files are the only exception,
  and only because they answer the same bytes to everyone: that is checked, not assumed;
- every HTML form of every page walked (also the visitor's: login, password reset, links from e-mails) that
  carries a password, a code, a token, a secret or a reason is ``method="post"``, so none of them ever lands in
  a URL, a history or a log; no link, form action or redirect of the walk has a query parameter of that kind;
- the links e-mailed for an invitation and a password reset answer with a redirect to a URL without the
  token (it moves into the session), and the page behind it neither repeats the token nor may be stored.
"""

from __future__ import annotations

import base64
import re
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.mfa.models import TotpDevice
from accounts.models import User
from accounts.scoping import tenant_scope
from permissions.models import BuiltinRole
from tests.accounts.conftest import password_only
from tests.accounts.mfa_helpers import code_at, give_device, now_t
from tests.api.conftest import bearer, issue
from tests.conftest import login, operator_login
from tests.factories import PASSWORD, builtin_role
from tests.urlwalk import every_url

# Names of form fields and query parameters whose value is a secret or says why (a reason is personal).
SECRET_NAME = re.compile(r"pass(word|wd|phrase)?|code|token|secret|otp|seed|reason|justification", re.I)
STATIC_URL = "/static/"


class Page(HTMLParser):
    """The forms of an HTML page (method, action, fields) and every URL it links to or loads."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self.urls: list[str] = []
        self.loads: list[str] = []  # scripts and styles the page loads
        self._form: dict | None = None
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        attrs = {key: value or "" for key, value in attrs}
        for key in ("href", "src", "action", "formaction"):
            if attrs.get(key):
                self.urls.append(attrs[key])
        if (tag == "script" and attrs.get("src")) or (tag == "link" and attrs.get("rel") == "stylesheet"):
            self.loads.append(attrs.get("src") or attrs.get("href", ""))
        if tag == "form":
            self._form = {"method": attrs.get("method", "get").lower(), "action": attrs.get("action", ""), "fields": []}
            self.forms.append(self._form)
        elif tag in ("input", "textarea", "select", "button") and self._form is not None:
            kind = attrs.get("type", "text" if tag == "input" else tag).lower()
            self._form["fields"].append((kind, attrs.get("name", ""), attrs.get("autocomplete", "")))
            if attrs.get("formmethod", "").lower() == "get":  # a button that sends its form by GET
                self._form["method"] = "get"

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None


def secret_fields(form: dict) -> list[str]:
    """The fields of a form whose value is a secret, a code or a reason."""
    found = []
    for kind, name, autocomplete in form["fields"]:
        if name == "csrfmiddlewaretoken":
            continue  # Django's CSRF token is a form field by design (SES-2) and travels in POST bodies only
        if kind == "password" or SECRET_NAME.search(name) or "one-time-code" in autocomplete:
            found.append(name or kind)
    return found


def secret_query(url: str) -> list[str]:
    """The query parameters of ``url`` whose name says it is a secret."""
    return [name for name, _value in parse_qsl(urlsplit(url).query, keep_blank_values=True) if SECRET_NAME.search(name)]


def body_of(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


class Walk:
    """What a caller saw: the 200 answers without no-store, the forms and URLs with secrets."""

    def __init__(self, client: Client, *, credentials: bool):
        self.client, self.credentials = client, credentials
        self.storable: dict[str, str] = {}
        self.get_forms: list[str] = []
        self.secret_urls: list[str] = []
        self.answered, self.forms, self.loads = 0, 0, set()

    def get(self, url: str):
        response = self.client.get(url)
        location = response.get("Location", "")
        if location and secret_query(location):
            self.secret_urls.append(f"{url} redirects to {location}")
        if response.status_code != 200:
            return response
        self.answered += 1
        cache_control = response.get("Cache-Control", "")
        if self.credentials and "no-store" not in cache_control:
            self.storable[url] = cache_control or "(none)"
        if response.get("Content-Type", "").startswith("text/html"):
            page = Page(body_of(response).decode())
            for form in page.forms:
                self.forms += 1
                secrets = secret_fields(form)
                if secrets and form["method"] != "post":
                    self.get_forms.append(f"{url}: <form method={form['method']}> carries {secrets}")
            for link in page.urls:
                if secret_query(link):
                    self.secret_urls.append(f"{url} links to {link}")
            self.loads |= {u for u in page.loads if u.startswith("/") and not u.startswith(("//", STATIC_URL))}
        return response

    def walk(self, urls):
        for _name, url in urls:
            self.get(url)
        for url in sorted(self.loads):  # what the pages load from the portal itself (not static files)
            self.get(url)

    def check(self, minimum: int):
        assert self.answered >= minimum, f"only {self.answered} pages answered 200: the walk did not get far"
        assert not self.get_forms, "forms sending secrets in the URL:\n" + "\n".join(self.get_forms)
        assert not self.secret_urls, "secrets in URLs:\n" + "\n".join(self.secret_urls)
        assert not self.storable, f"authenticated answers without no-store: {self.storable}"


@pytest.fixture
def verified_basic(acme, acme_basic):
    return login(Client(), acme_basic)


def test_dp4_every_page_of_a_verified_administrator(admin_client_acme, acme):
    """DP-4 for the widest tenant role: every pattern, its ids the tenant's own."""
    seen = Walk(admin_client_acme, credentials=True)
    seen.walk(every_url(acme))
    seen.check(minimum=40)
    assert seen.forms >= 20


def test_dp4_every_page_of_a_verified_basic_user(verified_basic, acme):
    """DP-4 for a basic user: other pages answer (my access, my requests, the request form with its reason)."""
    seen = Walk(verified_basic, credentials=True)
    seen.walk(every_url(acme))
    seen.check(minimum=8)


def test_dp4_every_page_of_a_password_only_session(acme_admin, acme):
    """DP-4 for the MFA step (MFA-9): the code page is no-store and its code goes by POST."""
    give_device(acme_admin)
    client, _response = password_only(acme_admin)
    seen = Walk(client, credentials=True)
    seen.walk(every_url(acme))
    seen.check(minimum=2)
    page = Page(client.get("/accounts/mfa/?next=/").content.decode())
    assert any("code" in secret_fields(form) and form["method"] == "post" for form in page.forms)


def test_dp4_the_enrolment_pages_showing_a_new_seed_and_backup_codes(acme, acme_basic):
    """DP-4: enrolment shows a new seed (QR code and text), then the backup codes: neither answer may be
    stored, and the code goes by POST."""
    client, response = password_only(acme_basic)
    enrol = response["Location"]
    assert enrol.startswith("/accounts/mfa/enrol/")
    seen = Walk(client, credentials=True)
    seen.get(enrol)  # the start page: a GET creates nothing (SES-2)
    start = client.post(enrol, {"op": "start"})
    assert start.status_code == 302
    page = seen.get(start["Location"])
    with tenant_scope(acme):
        seed = TotpDevice.objects.get(user=acme_basic, confirmed=False).key_bytes()
    assert base64.b32encode(seed).decode().rstrip("=") in page.content.decode()  # the page shows the seed
    [form] = [form for form in Page(page.content.decode()).forms if "code" in secret_fields(form)]
    assert form["method"] == "post"
    codes = client.post(start["Location"], {"code": code_at(seed, now_t()), "name": "My phone"})
    assert codes.status_code == 200 and "backup" in codes.content.decode().lower()
    assert "no-store" in codes["Cache-Control"], codes["Cache-Control"]
    seen.check(minimum=2)


def test_dp4_the_audit_export_and_verification_sent_by_post_are_not_stored(admin_client_acme):
    """DP-4: the audit export is a download asked for by POST (it is recorded first): the walk's GET answers
    405, so the POSTs of the audit page's own forms are sent here."""
    for url, form in [(reverse("audit:export"), {"proofs": "1"}), (reverse("audit:verify"), {})]:
        response = admin_client_acme.post(url, form)
        assert response.status_code == 200, (url, response.status_code)
        assert "no-store" in response["Cache-Control"], (url, response["Cache-Control"])
        body_of(response)
    assert "attachment" in admin_client_acme.post(reverse("audit:export"))["Content-Disposition"]


def test_dp4_every_page_of_a_platform_operator(db):
    """DP-4 in Django's admin (platform-admin/): its pages, add and change forms included."""
    operator = User.objects.create_superuser("ops@platform.example", PASSWORD)
    client = operator_login(Client(), operator)
    seen = Walk(client, credentials=True)
    seen.walk(every_url(None, prefixes=("platform-admin/",), skip=()))
    seen.check(minimum=10)


def test_dp4_every_api_answer_to_an_api_key_and_a_scim_key(acme, acme_admin):
    """DP-4 for bearer keys: every API and SCIM GET that answers 200 is no-store."""
    _key, token = issue(acme_admin)
    seen = Walk(bearer(token), credentials=True)
    # the schema and its docs take no credentials at all (authentication_classes = []): public, not walked here
    seen.walk(every_url(acme, prefixes=("api/",), skip=("api/schema/", "api/docs/")))
    seen.check(minimum=15)
    _key, token = issue(acme_admin, scopes={"users": ["view"], "groups": ["view"]}, scim=True)
    scim = Walk(bearer(token), credentials=True)
    users = scim.get("/scim/v2/Users")
    assert users.status_code == 200
    scim_id = users.json()["Resources"][0]["id"]
    urls = [
        (name, url.replace("/Users/1", f"/Users/{scim_id}"))
        for name, url in every_url(acme, prefixes=("scim/",), skip=())
    ]
    scim.walk(urls)
    scim.check(minimum=5)


def test_dp4_a_visitor_without_a_session_sends_no_secret_by_get(acme):
    """DP-4: the pages for people without a session (login, password reset, the e-mailed links) post their
    secrets; static files and /healthz need no no-store for them, and static files answer everyone alike."""
    seen = Walk(Client(), credentials=False)
    seen.walk(every_url(acme))
    seen.check(minimum=3)
    login_page = Page(Client().get("/accounts/login/").content.decode())
    assert any("password" in secret_fields(form) and form["method"] == "post" for form in login_page.forms)
    assert "no-store" in Client().get("/healthz")["Cache-Control"]


def test_dp4_static_files_answer_a_session_exactly_as_anyone(admin_client_acme):
    """The one exception to no-store: static files, which carry nothing of the session (same bytes, no cookie,
    no Vary on it)."""
    page = Page(admin_client_acme.get("/").content.decode())
    statics = [url for url in page.loads if url.startswith(STATIC_URL)]
    assert statics
    for url in statics:
        mine, anyone = admin_client_acme.get(url), Client().get(url)
        assert mine.status_code == anyone.status_code == 200, url
        assert body_of(mine) == body_of(anyone), url
        assert not mine.cookies and "cookie" not in mine.get("Vary", "").lower(), url


def _emailed_link() -> str:
    """The portal path of the link in the last e-mail sent."""
    [link] = re.findall(r"https?://\S+", mail.outbox[-1].body)
    return urlsplit(link).path


def _ask_for_link(purpose: str, admin_client: Client, tenant, user) -> None:
    """An administrator invites a new user, or a visitor asks for a password reset (the e-mail goes on commit)."""
    if purpose == "invitation":
        role = builtin_role(tenant, BuiltinRole.BASIC)
        form = {"email": "invitee@acme.example", "full_name": "In Vitee", "role": role.pk}
        response = admin_client.post(reverse("console:invite"), form)
        assert response.status_code == 302, response.content[:500]
    else:
        response = Client().post(reverse("accounts:password_reset"), {"email": user.email})
        assert response.status_code == 200


@pytest.mark.parametrize("purpose", ["invitation", "password_reset"])
def test_dp4_emailed_links_move_their_token_out_of_the_url(
    purpose, admin_client_acme, acme, acme_basic, django_capture_on_commit_callbacks
):
    """DP-4: the e-mailed link answers with a redirect to a URL without its token, and the page there (a form
    setting a password) neither carries the token nor may be stored."""
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        _ask_for_link(purpose, admin_client_acme, acme, acme_basic)
    path = _emailed_link()
    token = path.rstrip("/").rsplit("/", 1)[-1]
    assert len(token) >= 40, path

    visitor = Client()
    response = visitor.get(path)
    assert response.status_code == 302, response.status_code
    target = response["Location"]
    assert token not in target and not secret_query(target), target
    page = visitor.get(target)
    assert page.status_code == 200
    html = page.content.decode()
    assert token not in html
    assert "no-store" in page.get("Cache-Control", ""), f"{target}: Cache-Control {page.get('Cache-Control')!r}"
    forms = Page(html).forms
    assert any("new_password1" in secret_fields(form) and form["method"] == "post" for form in forms)
    for form in forms:
        assert token not in form["action"] and not secret_query(form["action"])


def test_the_walk_sees_a_secret_sent_by_get():
    """The control of the form and URL checks: a GET form with a password, a code or a reason is seen; the
    CSRF token, a search box and a POST form are not."""
    html = """
        <form method="get"><input type="search" name="q"><input type="hidden" name="csrfmiddlewaretoken"></form>
        <form><input name="username"><input type="password" name="pw"></form>
        <form method="GET"><input name="code" autocomplete="one-time-code"></form>
        <form method="get"><textarea name="reason"></textarea></form>
        <form method="post"><input type="password" name="password"><input name="token"></form>
        <a href="/accounts/login/?next=/&amp;token=abc">x</a><img src="/m/reports/?q=x">
    """
    page = Page(html)
    flagged = [secret_fields(form) for form in page.forms if secret_fields(form) and form["method"] != "post"]
    assert flagged == [["pw"], ["code"], ["reason"]]
    assert [url for url in page.urls if secret_query(url)] == ["/accounts/login/?next=/&token=abc"]
