"""SES-2: every cookie the portal sends in production is Secure, HttpOnly and SameSite.

The production values are read the way production reads them: ``portal.settings`` imported in a fresh process
with the production environment of tests/portal/test_production.py (HTTPS on because DEBUG is off; the test
settings turn secure cookies off for the plain-http test client). Every ``*_COOKIE_*`` setting found there,
for any kind of cookie (session, CSRF, language, and any added later), must be Secure, HttpOnly and SameSite.

Then a person walks through login, the MFA step, a language switch (before and after login) and logout with
exactly those cookie settings, the CSRF token taken from the forms as a browser without script access to
the cookie would, and every Set-Cookie header of every answer is checked: a flag a view or middleware forgets
(one that sets a cookie by hand) shows here even when the settings are right.
"""

import json
import os
import re
import subprocess
import sys
from http.cookies import Morsel

import pytest
from django.test import Client, override_settings

from tests.accounts.mfa_helpers import device_of, fresh_code, give_device
from tests.factories import PASSWORD
from tests.portal.test_production import PRODUCTION_ENV, ROOT

SAMESITE = {"lax", "strict"}
_READ_COOKIE_SETTINGS = """
import json, django
django.setup()
from django.conf import settings
print(json.dumps({name: getattr(settings, name) for name in dir(settings) if "_COOKIE_" in name}))
"""


@pytest.fixture(scope="module")
def production_cookie_settings(tmp_path_factory) -> dict:
    """Every ``*_COOKIE_*`` setting as production reads it (a fresh process, production environment)."""
    env = {**os.environ, **PRODUCTION_ENV, "PORTCULLIS_VAR_DIR": str(tmp_path_factory.mktemp("var"))}
    env["DJANGO_SETTINGS_MODULE"] = "portal.settings"
    env.pop("PORTCULLIS_HTTPS", None)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    result = subprocess.run(
        [sys.executable, "-c", _READ_COOKIE_SETTINGS], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_ses2_production_settings_make_every_kind_of_cookie_secure_httponly_samesite(production_cookie_settings):
    """SES-2: session, CSRF and language cookies (and any other ``X_COOKIE_*`` family) in production."""
    kinds = {name.removesuffix("_COOKIE_NAME") for name in production_cookie_settings if name.endswith("_COOKIE_NAME")}
    assert kinds >= {"SESSION", "CSRF", "LANGUAGE"}
    for kind in sorted(kinds):
        assert production_cookie_settings.get(f"{kind}_COOKIE_SECURE") is True, kind
        assert production_cookie_settings.get(f"{kind}_COOKIE_HTTPONLY") is True, kind
        assert str(production_cookie_settings.get(f"{kind}_COOKIE_SAMESITE")).lower() in SAMESITE, kind


def _csrf_token(response) -> str:
    """The token of the page's form (what a browser sends; no script reads the cookie, it is HttpOnly)."""
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.content.decode())
    assert match, f"{response.request['PATH_INFO']} has no form with a CSRF token"
    return match[1]


def _is_deletion(morsel: Morsel) -> bool:
    return morsel.value == "" and (morsel["max-age"] in (0, "0") or "1970" in morsel["expires"])


def test_ses2_every_cookie_sent_on_login_mfa_language_and_logout_is_secure_httponly_samesite(
    acme_admin, production_cookie_settings
):
    """SES-2: every Set-Cookie of the login, MFA, language and logout answers carries Secure, HttpOnly and
    SameSite (a cookie being deleted carries no value; it keeps SameSite, see the note below)."""
    give_device(acme_admin)
    sent: list[tuple[str, Morsel]] = []

    def record(step, response):
        for morsel in response.cookies.values():
            sent.append((step, morsel))
        return response

    with override_settings(**production_cookie_settings):
        client = Client(enforce_csrf_checks=True)
        page = record("login page", client.get("/accounts/login/"))
        page = record(
            "language before login",
            client.post(
                "/accounts/language/",
                {"language": "zh-hans", "next": "/accounts/login/", "csrfmiddlewaretoken": _csrf_token(page)},
            ),
        )
        assert page.status_code == 302
        page = record("login page", client.get("/accounts/login/"))
        response = record(
            "login",
            client.post(
                "/accounts/login/",
                {"username": acme_admin.email, "password": PASSWORD, "csrfmiddlewaretoken": _csrf_token(page)},
            ),
        )
        assert response.status_code == 302 and response["Location"].startswith("/accounts/mfa/")
        page = record("MFA page", client.get(response["Location"]))
        device = device_of(acme_admin)
        response = record(
            "MFA step",
            client.post(
                "/accounts/mfa/",
                {
                    "device": device.persistent_id,
                    "code": fresh_code(device),
                    "next": "/",
                    "csrfmiddlewaretoken": _csrf_token(page),
                },
            ),
        )
        assert response.status_code == 302 and response["Location"] == "/", response.content[:300]
        page = record("home", client.get("/"))
        assert page.status_code == 200
        response = record(
            "language after login",
            client.post(
                "/accounts/language/", {"language": "en", "next": "/", "csrfmiddlewaretoken": _csrf_token(page)}
            ),
        )
        assert response.status_code == 302
        page = record("home", client.get("/"))
        response = record("logout", client.post("/accounts/logout/", {"csrfmiddlewaretoken": _csrf_token(page)}))
        assert response.status_code == 302
        assert client.get("/").status_code == 302  # logged out

    names = {morsel.key for _step, morsel in sent}
    kinds = ("SESSION", "CSRF", "LANGUAGE")
    assert names >= {production_cookie_settings[f"{kind}_COOKIE_NAME"] for kind in kinds}, names
    assert [step for step, morsel in sent if _is_deletion(morsel)] == ["logout"]
    for step, morsel in sent:
        where = f"{step}: Set-Cookie {morsel.OutputString()}"
        assert str(morsel["samesite"]).lower() in SAMESITE, where
        if _is_deletion(morsel):
            # Django's HttpResponse.delete_cookie marks Secure only for __Secure-/__Host- names and never
            # HttpOnly; what it sends is an empty, expired value (the session cookie at logout).
            continue
        assert morsel["secure"] is True, where
        assert morsel["httponly"] is True, where
