"""LOG-7 in the operators' commands: user input with control characters never reaches their output raw.

The input arrives the ways it does in production: a user's full name (in the ``user.created`` event and its
personal values), a deactivation reason, and a tenant's slug and name as a platform operator's import could
store them (the models validate slugs, but the commands must not trust the database).
"""

import io
import json
import re

import pytest
from django.core.management import CommandError, call_command

from accounts import services
from accounts.models import Tenant
from tests.audit.conftest import sql, triggers_off
from tests.factories import UserFactory

# A colour, a cleared screen and a forged line that looks like the command's own.
FORGED_OK = "\x1b[2J\r\nacme: OK (99 events)"  # with "evil" and OTHER, within a slug's 50 characters
NAME = "Eve\x1b[31m\r\nFAKE LINE\x07"
REASON = "left\x1b[2J\r\nFAKE LINE"
C0 = re.compile("[\x00-\x09\x0b-\x1f]")  # C0 controls, the newline that ends a line aside
# and DEL, C1, line/paragraph separators, bidi overrides: what audit.escaping escapes on top of C0.
OTHER = "\x7f\x9b2J\u2028\u202e"
RAW_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


@pytest.fixture
def hostile_input(acme_admin):
    """Events in acme's log carrying a hostile full name and reason."""
    eve = UserFactory(tenant=acme_admin.tenant, email="eve@acme.example", full_name=NAME)
    services.deactivate_user(eve, actor=acme_admin, reason=REASON)
    return eve


def run(*args) -> tuple[str, int]:
    out = io.StringIO()
    try:
        call_command(*args, stdout=out)
        code = 0
    except CommandError as error:
        code = error.returncode
    return out.getvalue(), code


def test_log7_audit_verify_prints_user_input_escaped(acme_admin, globex_admin, hostile_input):
    """LOG-7: ``audit_verify`` with a hostile name and reason in acme's log (they are hashed, never printed),
    and a tenant whose slug forges an "acme: OK" line and whose log was tampered with (slug printed per problem)."""
    out, code = run("audit_verify")
    assert code == 0 and not RAW_CONTROL.search(out)
    assert "FAKE LINE" not in out and "Eve" not in out
    lines = out.split("\n")[:-1]
    assert len(lines) == 2 and lines[0].startswith("acme: OK (") and lines[1].startswith("globex: OK (")

    evil = globex_admin.tenant
    Tenant.objects.filter(pk=evil.pk).update(slug="evil" + FORGED_OK + OTHER)
    with triggers_off():
        sql(
            "UPDATE audit_auditevent SET canonical = REPLACE(canonical, 'Globex', 'Gl0bex') WHERE tenant_id = %s",
            [evil.pk],
        )
    out, code = run("audit_verify")
    assert code == 1
    assert not RAW_CONTROL.search(out), repr(out)
    lines = out.split("\n")[:-1]
    assert [line for line in lines if line.startswith("acme: ")] == [lines[0]]  # only the genuine acme line
    evil_lines = lines[1:]
    assert evil_lines and all(
        line.startswith("evil\\x1b[2J\\x0d\\x0aacme: OK (99 events)\\x7f\\x9b2J\\u2028\\u202e: ") for line in evil_lines
    )
    assert any("modified" in line for line in evil_lines)


def test_log7_audit_export_escapes_c0_controls_of_user_input(acme_admin, hostile_input, capsys):
    """LOG-7: ``audit_export`` writes JSON Lines: the hostile name (exported in clear as a personal value) keeps
    its ESC, CR, LF and BEL inside its JSON string, escaped; one record per line; it reads back unchanged."""
    call_command("audit_export", "--tenant", "acme")
    out = capsys.readouterr().out
    assert not C0.search(out), repr(out)
    assert "FAKE LINE" in out and not any(line.startswith("FAKE LINE") for line in out.split("\n"))
    assert '"Eve\\u001b[31m\\r\\nFAKE LINE\\u0007"' in out
    records = [json.loads(line) for line in out.split("\n")[:-1]]
    names = [value["value"] for r in records for value in r.get("personal", {}).values()]
    assert names.count(NAME) == 2  # the user's creation and deactivation, each naming its target


def test_log7_audit_export_escapes_every_control_of_user_input(acme_admin, capsys):
    """LOG-7: the controls audit.escaping escapes beyond C0 (DEL, C1, separators, bidi) do not reach the output raw."""
    eve = UserFactory(tenant=acme_admin.tenant, email="eve@acme.example", full_name="Eve" + OTHER)
    services.deactivate_user(eve, actor=acme_admin, reason="left" + OTHER)
    call_command("audit_export", "--tenant", "acme")
    out = capsys.readouterr().out
    assert not RAW_CONTROL.search(out), repr(RAW_CONTROL.findall(out))
