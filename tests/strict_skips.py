"""Loud skips: in CI a skipped test is a failed test, except the PostgreSQL-only ones on SQLite.

A skip is how a suite quietly stops proving something (Redis absent, a walk that found no URL, a
browser missing): the run stays green while the feature is untested. So when the run is CI's (``CI=true``,
or any ``PORTCULLIS_REQUIRE_*`` variable set, as ``.ci/run`` does), every skip is turned into a failure
that names the test and its reason. One skip is expected and allowed by name: a test marked
``postgres`` on a run against SQLite (CI runs the suite on both databases, so it runs on the other).

Loaded by ``tests/conftest.py``; ``tests/portal/test_strict_skips.py`` runs pytest on forced skips to
prove a CI run fails on them.
"""

from __future__ import annotations

import os

import pytest

#: The one allowed skip: the ``postgres`` marker's, on SQLite.
POSTGRES_ONLY = "needs PostgreSQL (DATABASE_URL=postgres://...)"


def strict() -> bool:
    """True on a CI run: ``CI=true`` or a ``PORTCULLIS_REQUIRE_*`` variable set to something."""
    if os.environ.get("CI", "").strip().lower() in ("true", "1", "yes"):
        return True
    return any(name.startswith("PORTCULLIS_REQUIRE_") and value for name, value in os.environ.items())


def _on_postgresql() -> bool:
    from django.db import connection

    return connection.vendor == "postgresql"


def pytest_collection_modifyitems(config, items):
    """Tests marked ``postgres`` are skipped on SQLite, with the one reason ``POSTGRES_ONLY``."""
    if _on_postgresql():
        return
    skip = pytest.mark.skip(reason=POSTGRES_ONLY)
    for item in items:
        if item.get_closest_marker("postgres"):
            item.add_marker(skip)


def _skip_reason(report) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


def _allowed(item, reason: str) -> bool:
    return item.get_closest_marker("postgres") is not None and reason == POSTGRES_ONLY and not _on_postgresql()


def _fail(report, what: str, reason: str) -> None:
    report.outcome = "failed"
    report.longrepr = (
        f"unexpected skip in CI ({what}): {reason}\n"
        "CI fails on every skip but a test marked postgres on SQLite: provide what the test needs, "
        "or mark it postgres if it is PostgreSQL-only."
    )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if not report.skipped or hasattr(report, "wasxfail") or not strict():
        return
    reason = _skip_reason(report)
    if not _allowed(item, reason):
        _fail(report, item.nodeid, reason)


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    outcome = yield
    report = outcome.get_result()
    if report.skipped and strict():  # a module-level pytest.skip() or importorskip(): never allowed
        _fail(report, collector.nodeid, _skip_reason(report))
