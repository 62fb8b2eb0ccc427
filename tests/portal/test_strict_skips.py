"""CI fails on a skip (tests/strict_skips.py): pytest is run, in a separate process, on files whose tests
skip on purpose, once as a developer runs it and once as CI does."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

FORCED = """
import pytest


def test_forced_skip():
    pytest.skip("forced: Redis is not running")


@pytest.mark.skipif(True, reason="forced: skipif")
def test_forced_skipif():
    pass


@pytest.mark.postgres
def test_postgres_only():
    pass


def test_passes():
    pass
"""

MODULE_SKIP = """
import pytest

pytest.skip("forced: the whole module", allow_module_level=True)


def test_never_collected():
    pass
"""


def run_pytest(path: Path, **env: str) -> subprocess.CompletedProcess:
    """pytest with the strict-skip plugin on ``path``, on SQLite, with only ``env``'s CI variables."""
    clean = {
        name: value
        for name, value in os.environ.items()
        if name not in ("CI", "DATABASE_URL", "REDIS_URL") and not name.startswith("PORTCULLIS_REQUIRE_")
    }
    command = [sys.executable, "-m", "pytest", "-c", str(ROOT / "pyproject.toml"), "--rootdir", str(ROOT)]
    command += ["-p", "tests.strict_skips", "-p", "no:cacheprovider", "-q", str(path)]
    return subprocess.run(command, cwd=ROOT, env={**clean, **env}, capture_output=True, text=True, timeout=120)


@pytest.fixture
def forced(tmp_path):
    path = tmp_path / "test_forced.py"
    path.write_text(FORCED, encoding="utf-8")
    return path


def test_a_developer_run_reports_skips_and_passes(forced):
    result = run_pytest(forced)
    assert result.returncode == 0, result.stdout
    assert "1 passed, 3 skipped" in result.stdout


@pytest.mark.parametrize("env", [{"CI": "true"}, {"PORTCULLIS_REQUIRE_BROWSER": "1"}], ids=["CI", "REQUIRE"])
def test_a_ci_run_fails_on_every_skip_but_the_postgres_marker_on_sqlite(forced, env):
    result = run_pytest(forced, **env)
    assert result.returncode == 1, result.stdout
    out = result.stdout
    assert "unexpected skip in CI (" in out
    assert "::test_forced_skip): forced: Redis is not running" in out
    assert "::test_forced_skipif): forced: skipif" in out
    assert "test_postgres_only" not in out.split("short test summary info")[-1].replace("SKIPPED", "")
    assert "1 failed, 1 passed, 1 skipped, 1 error" in out


def test_a_ci_run_fails_on_a_skipped_module(tmp_path):
    path = tmp_path / "test_module_skip.py"
    path.write_text(MODULE_SKIP, encoding="utf-8")
    assert "1 skipped" in run_pytest(path).stdout
    result = run_pytest(path, CI="true")
    assert result.returncode != 0, result.stdout
    assert "unexpected skip in CI" in result.stdout and "forced: the whole module" in result.stdout
