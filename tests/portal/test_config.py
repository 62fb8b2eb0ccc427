"""Settings from the environment: a wrong value stops start-up with one clear line."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from portal import config

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DEBUG", "maybe", "DEBUG must be one of"),
        ("DATABASE_URL", "mysql://x/y", "DATABASE_URL must be a sqlite:// or postgres:// URL"),
        ("REDIS_URL", "http://cache", "REDIS_URL must be a redis://"),
        ("SECRET_KEY", "short", "SECRET_KEY must be at least 50 characters"),
        ("TRUSTED_PROXY_COUNT", "many", "TRUSTED_PROXY_COUNT must be a whole number"),
        ("ALLOWED_HOSTS", " , ", "ALLOWED_HOSTS is empty"),
        ("ALLOWED_HOSTS", "portal.example.com,https://portal.example.com", "is not a host name"),
    ],
)
def test_bad_setting_stops_start_up_with_one_line(tmp_path, name, value, message):
    env = {**os.environ, "PORTCULLIS_VAR_DIR": str(tmp_path), name: value}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("portcullis: configuration error: ")
    assert message in lines[0]


def test_secret_key_is_generated_once_into_a_private_file(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    key_file = tmp_path / "secret_key"
    first = config.secret_key("SECRET_KEY", key_file)
    assert len(first) >= 50
    assert config.secret_key("SECRET_KEY", key_file) == first
    assert key_file.stat().st_mode & 0o077 == 0


def test_env_bool_accepts_usual_spellings(monkeypatch):
    for raw, expected in [("1", True), ("yes", True), ("off", False), ("", False)]:
        monkeypatch.setenv("FLAG", raw)
        assert config.env_bool("FLAG") is expected


def test_database_url_postgres(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://app:pw@db.internal:5432/portcullis")
    db = config.database_config("DATABASE_URL", Path("/tmp/unused.sqlite3"))
    assert db["ENGINE"] == "portal.postgresql"  # Django's, with the health check a busy connection skips
    assert db["NAME"] == "portcullis"
    assert db["OPTIONS"]["prepare_threshold"] == 5  # the permission engine's query is prepared


def test_prepared_statements_can_be_turned_off_for_a_pooler(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://app:pw@db.internal:5432/portcullis")
    monkeypatch.setenv("DATABASE_PREPARED_STATEMENTS", "false")
    assert "prepare_threshold" not in config.database_config("DATABASE_URL", Path("/tmp/unused.sqlite3")).get(
        "OPTIONS", {}
    )
    monkeypatch.setenv("DATABASE_URL", "sqlite:////tmp/unused.sqlite3")
    monkeypatch.delenv("DATABASE_PREPARED_STATEMENTS")
    assert "prepare_threshold" not in config.database_config("DATABASE_URL", Path("/tmp/unused.sqlite3")).get(
        "OPTIONS", {}
    )


def test_secret_key_file_is_git_ignored():
    assert "var/" in (ROOT / ".gitignore").read_text().splitlines()


@pytest.mark.parametrize("hosts", ["portal.example.com", ".example.com,localhost", "*", "10.0.0.7,[::1]"])
def test_allowed_hosts_accepts_names_domains_and_addresses(monkeypatch, hosts):
    monkeypatch.setenv("ALLOWED_HOSTS", hosts)
    assert config.env_hosts("ALLOWED_HOSTS", []) == hosts.split(",")
