"""The Simplified Chinese catalogue is complete, current and compiled; pages read in Chinese."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest

from tests.conftest import login

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")
NOT_SOURCE = {"tests", "bench", "scripts"}  # what `make messages` ignores too


def source_dirs() -> list[Path]:
    """Every Python package of the project, and the templates."""
    return [
        d
        for d in sorted(ROOT.iterdir())
        if d.is_dir() and d.name not in NOT_SOURCE and ((d / "__init__.py").exists() or d.name == "templates")
    ]


def test_catalogue_has_no_missing_or_fuzzy_message():
    po = polib.pofile(str(PO))
    assert not po.metadata_is_fuzzy
    assert [e.msgid for e in po.untranslated_entries()] == []
    assert [e.msgid for e in po.fuzzy_entries()] == []
    assert [e.msgid for e in po.obsolete_entries()] == []


def test_compiled_catalogue_matches_the_source_catalogue():
    po = {(e.msgctxt, e.msgid): e.msgstr or e.msgstr_plural for e in polib.pofile(str(PO)) if e.translated()}
    mo = {(e.msgctxt, e.msgid): e.msgstr or e.msgstr_plural for e in polib.mofile(str(MO)) if e.msgid}
    assert po == mo, "run `make messages` to recompile locale/zh_Hans/LC_MESSAGES/django.mo"


def test_catalogue_holds_every_message_of_the_source(tmp_path):
    """Extract the messages afresh from a copy of the source and compare with the committed catalogue."""
    if shutil.which("xgettext") is None:
        if os.environ.get("PORTCULLIS_REQUIRE_GETTEXT"):
            pytest.fail("GNU gettext (xgettext) is required in CI")
        pytest.skip("GNU gettext is not installed")
    for source in source_dirs():
        shutil.copytree(source, tmp_path / source.name, ignore=shutil.ignore_patterns("__pycache__", "migrations"))
    shutil.copy(ROOT / "manage.py", tmp_path)
    (tmp_path / "locale" / "zh_Hans" / "LC_MESSAGES").mkdir(parents=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PORTCULLIS_VAR_DIR": str(tmp_path / "var")}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "zh_Hans", "--no-location", "-i", "var/*"],
        cwd=tmp_path,
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    fresh = {(e.msgctxt, e.msgid) for e in polib.pofile(str(tmp_path / "locale/zh_Hans/LC_MESSAGES/django.po"))}
    committed = {(e.msgctxt, e.msgid) for e in polib.pofile(str(PO))}
    missing = sorted(msgid for _ctx, msgid in fresh - committed)
    stale = sorted(msgid for _ctx, msgid in committed - fresh)
    assert not missing, f"messages missing from the Chinese catalogue (run `make messages`): {missing}"
    assert not stale, f"messages no longer in the source (run `make messages`): {stale}"


def test_login_page_in_chinese_after_switching(client, db):
    response = client.post("/accounts/language/", {"language": "zh-hans", "next": "/accounts/login/"})
    assert response.status_code == 302
    page = client.get("/accounts/login/").content.decode()
    assert "登录" in page and "电子邮件" in page
    assert 'lang="zh-hans"' in page


def test_language_choice_is_remembered_per_user(client, acme_admin):
    login(client, acme_admin)
    client.post("/accounts/language/", {"language": "zh-hans", "next": "/"})
    acme_admin.refresh_from_db()
    assert acme_admin.language == "zh-hans"

    # A new browser without the language cookie still gets the user's language after logging in.
    from django.test import Client

    other = login(Client(), acme_admin)
    page = other.get("/").content.decode()
    assert "您的访问权限" in page and "管理员" in page and "Acme Trading" in page


def test_unknown_language_is_refused(client, acme_admin):
    login(client, acme_admin)
    client.post("/accounts/language/", {"language": "xx", "next": "/"})
    acme_admin.refresh_from_db()
    assert acme_admin.language == ""


def test_dates_read_the_same_in_every_language(client, acme_admin):
    """One date format (issue 19): ISO date, 24-hour time and the time zone, in English and in Chinese; the
    label is translated, the date is not reworded (it once read "March 4, 2026, 5:06 a.m.." in a sentence)."""
    from django.test import Client

    login(Client(), acme_admin)  # a first sign-in, so that the home shows the previous one
    login(client, acme_admin)
    english = client.get("/").content.decode()
    client.post("/accounts/language/", {"language": "zh-hans", "next": "/"})
    chinese = client.get("/").content.decode()
    shown = [page.split('data-testid="previous-login">', 1)[1].split("</span>", 1)[0] for page in (english, chinese)]
    assert shown[0].startswith("Previous sign-in: ") and shown[1].startswith("上次登录：")
    assert shown[0].split(": ", 1)[1] == shown[1].split("：", 1)[1]
    assert shown[0].endswith(" UTC") and "年" not in shown[1] and "m." not in shown[0]
