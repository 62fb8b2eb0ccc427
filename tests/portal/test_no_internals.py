"""Issue 19: no page shows internals. Every page of the walk (tests/urlwalk.py), for an administrator and a
customer, in English and in Chinese, is scanned for the repr of a Python dict or object, and for the dates
that ended in "a.m.." (one date format now: ISO date, 24-hour time, the time zone). The icon browsers ask for
exists, and `make run` e-mails links to the port it serves."""

import re
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from django.utils import translation
from django.utils.formats import date_format

from accounts.scoping import tenant_scope
from permissions.models import Module, PendingChange, Role
from permissions.services import roles as role_services
from permissions.vocabulary import Action
from tests.conftest import login
from tests.urlwalk import every_url

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
INTERNALS = [
    ("a Python dict", re.compile(r"\{'")),
    ("a Python object's repr", re.compile(r"<[\w.]+ object at 0x[0-9a-f]+>|&lt;[\w.]+ object at 0x[0-9a-f]+&gt;")),
    ("a doubled full stop after a time", re.compile(r"[ap]\.m\.\.")),
    ("a lazy translation's repr", re.compile(r"__proxy__")),
]


def internals_of(client, urls) -> tuple[int, list[str]]:
    """How many HTML pages answered, and what each showed that it should not."""
    seen, found = 0, []
    for _name, url in urls:
        response = client.get(url)
        if response.status_code != 200 or not response.get("Content-Type", "").startswith("text/html"):
            continue
        seen += 1
        html = response.content.decode()
        html = re.sub(r"<script\b.*?</script>", "", html, flags=re.S)  # the API docs' data are code, not text
        for what, pattern in INTERNALS:
            match = pattern.search(html)
            if match:
                found.append(f"{url}: {what}: …{html[max(0, match.start() - 60) : match.end() + 60]}…")
    return seen, found


def pending_matrix_change(tenant, admin):
    """A role-matrix change that waits for a second administrator (its title once was a Python dict)."""
    with tenant_scope(tenant):
        role = role_services.create_role(actor=admin, tenant=tenant, name="Help desk")
        users = Module.objects.get(key="users")
        return role_services.set_role_matrix(role, {users.key: [Action.VIEW]}, actor=admin, reason="Support")


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_no_page_of_an_administrator_shows_internals(admin_client_acme, acme, acme_admin, language):
    pending_matrix_change(acme, acme_admin)
    admin_client_acme.post("/accounts/language/", {"language": language, "next": "/"})
    seen, found = internals_of(admin_client_acme, every_url(acme))
    assert seen >= 60, seen
    assert not found, "\n".join(found)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_no_page_of_a_customer_shows_internals(acme, acme_basic, language):
    client = login(Client(), acme_basic)
    client.post("/accounts/language/", {"language": language, "next": "/"})
    seen, found = internals_of(client, every_url(acme))
    assert seen >= 8, seen
    assert not found, "\n".join(found)


def test_a_pending_matrix_change_reads_as_words(acme, acme_admin):
    with translation.override("en"):
        change = pending_matrix_change(acme, acme_admin)
    assert isinstance(change, PendingChange)
    assert change.summary == "Help desk: Users: + View", change.summary
    with tenant_scope(acme):
        assert Role.objects.filter(name="Help desk").exists()


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_one_date_format_with_the_time_zone_in_every_language(language):
    moment = datetime(2026, 12, 4, 9, 5, tzinfo=UTC)
    with translation.override(language):
        assert date_format(moment, "DATETIME_FORMAT") == "2026-12-04 09:05 UTC"
        assert date_format(moment.date(), "DATE_FORMAT") == "2026-12-04"


def test_the_favicon_exists_and_the_old_address_leads_to_it(client):
    assert finders.find("favicon.svg")
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith("/favicon.svg")
    page = client.get("/accounts/login/").content.decode()
    assert 'rel="icon"' in page and "favicon.svg" in page


def test_make_run_points_e_mailed_links_at_the_port_it_serves():
    show = 'show:\n\t@echo "$$PORTCULLIS_BASE_URL"\n'
    env = {"PATH": "/usr/bin:/bin"}
    run = subprocess.run(
        ["make", "-s", "-f", "Makefile", "-f", "-", "PORT=8123", "show"],
        input=show,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        check=True,
    )
    assert run.stdout.strip() == "http://127.0.0.1:8123"
    explicit = subprocess.run(
        ["make", "-s", "-f", "Makefile", "-f", "-", "show"],
        input=show,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**env, "PORTCULLIS_BASE_URL": "https://portal.example"},
        check=True,
    )
    assert explicit.stdout.strip() == "https://portal.example"
