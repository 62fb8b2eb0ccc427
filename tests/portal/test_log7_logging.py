"""LOG-7: control characters in user input are escaped in the application log, in either LOG_FORMAT.

The formatters are built from the project's LOGGING setting (as ``logging.config`` builds them), and a fresh
process is started under each LOG_FORMAT, so what is tested is what the portal writes.
"""

import io
import json
import logging
import logging.config
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from audit.escaping import escape_controls

ROOT = Path(__file__).resolve().parents[2]
# A colour, a cleared screen, a forged record, a bell, a C1 CSI, a line separator and a right-to-left override.
HOSTILE = "a\x1b[31m\r\n2026-01-01 00:00:00,000 INFO portcullis FAKE LINE\x07\x9b2J\u2028\u202egnp.exe"
# What must never reach the log raw: the characters audit.escaping escapes (a newline only ends a record).
RAW_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def configured(name: str) -> logging.Formatter:
    """The formatter ``name`` of settings.LOGGING, built by logging.config's own machinery."""
    return logging.config.DictConfigurator({}).configure_formatter(dict(settings.LOGGING["formatters"][name]))


def log_through(formatter: logging.Formatter) -> str:
    """What a stream handler with ``formatter`` writes for a message, an extra and an exception of user input."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    logger = logging.getLogger("portcullis.tests.log7")
    logger.addHandler(handler)
    logger.propagate, level = False, logger.level
    logger.setLevel(logging.INFO)
    try:
        logger.warning("user said %s", HOSTILE)
        logger.info("login refused", extra={"username": HOSTILE})
        try:
            raise ValueError(f"bad name {HOSTILE}")
        except ValueError:
            logger.exception("could not save %s", HOSTILE)
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
        logger.setLevel(level)
    return stream.getvalue()


def test_log7_the_text_formatter_escapes_and_keeps_one_line_per_record():
    """LOG-7, LOG_FORMAT=text: no raw control character; each record is one line, a traceback's lines are
    marked as its continuation, so the forged line never stands at the start of a line."""
    out = log_through(configured("text"))
    assert not RAW_CONTROL.search(out), repr(out)
    lines = out.splitlines()
    starts = [line for line in lines if not line.startswith("  | ")]
    assert len(starts) == 3 and all(
        re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} [A-Z]+ portcullis", s) for s in starts
    )
    assert "WARNING portcullis.tests.log7 user said a\\x1b[31m\\x0d\\x0a2026-01-01 00:00:00,000 INFO" in starts[0]
    assert "FAKE LINE\\x07\\x9b2J\\u2028\\u202egnp.exe" in starts[0]
    assert not any(line.startswith("2026-01-01") for line in lines)
    # The exception's message quotes the input: escaped as well, inside the marked traceback.
    assert any(line.startswith("  | ValueError: bad name a\\x1b[31m") for line in lines)
    assert "  | Traceback (most recent call last):" in lines


def test_log7_the_json_formatter_writes_one_escaped_line_per_record_and_loses_nothing():
    """LOG-7, LOG_FORMAT=json: one line per record, no raw control character, and the values read back whole."""
    out = log_through(configured("json"))
    assert not RAW_CONTROL.search(out), repr(out)
    lines = out.splitlines()
    assert len(lines) == 3
    records = [json.loads(line) for line in lines]
    assert records[0]["message"] == f"user said {HOSTILE}"
    assert records[1]["username"] == HOSTILE
    assert records[2]["message"] == f"could not save {HOSTILE}" and f"bad name {HOSTILE}" in records[2]["exception"]


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_log7_a_portal_process_logs_user_input_escaped(log_format):
    """LOG-7: a fresh process under LOG_FORMAT=text or json, logging through the root handler of the settings."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "portal.test_settings", "LOG_FORMAT": log_format}
    code = (
        "import django, logging, sys; django.setup(); from django.conf import settings; "
        "assert settings.LOG_FORMAT == sys.argv[1]; "
        "logging.getLogger('portcullis.accounts').warning('login refused for %s', sys.argv[2])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, log_format, HOSTILE], cwd=ROOT, env=env, capture_output=True, check=True
    )
    err = result.stderr.decode("utf-8")
    assert not RAW_CONTROL.search(err), repr(err)
    [line] = err.splitlines()
    if log_format == "json":
        assert json.loads(line)["message"] == f"login refused for {HOSTILE}"
    else:
        assert line.endswith(f"WARNING portcullis.accounts login refused for {escape_controls(HOSTILE)}")
