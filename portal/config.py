"""Read and validate the environment that configures Portcullis.

Every setting that comes from the environment goes through one of these readers, so a wrong
value stops start-up with one clear line (``manage.py`` prints it) instead of a traceback
or, worse, a silently insecure default.
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path
from urllib.parse import urlparse

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class ConfigError(ImproperlyConfigured):
    """A setting read from the environment is missing or malformed."""


def env_str(name: str, default: str = "") -> str:
    """The variable as text, stripped; ``default`` when unset."""
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool = False) -> bool:
    """A yes/no variable; anything but the usual spellings is refused."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(f"{name} must be one of true/false/1/0/yes/no/on/off, not {raw!r}")


def env_int(name: str, default: int, *, minimum: int, maximum: int) -> int:
    """A whole number within [minimum, maximum]."""
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from None
    if not minimum <= value <= maximum:
        raise ConfigError(f"{name} must be between {minimum} and {maximum}, not {value}")
    return value


def env_choice(name: str, choices: list[str], default: str) -> str:
    """One of ``choices`` (case-insensitive)."""
    value = env_str(name).lower() or default
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, not {value!r}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    """A comma-separated list; empty items are dropped."""
    raw = os.environ.get(name)
    if raw is None:
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?"
_HOST = re.compile(rf"^(\*|\.?{_LABEL}(\.{_LABEL})*\.?|\[[0-9A-Fa-f:.]+\])$")


def env_hosts(name: str, default: list[str]) -> list[str]:
    """Host names served (Django's ALLOWED_HOSTS): at least one; each a name, ``.domain``, an address or ``*``,
    never a URL."""
    hosts = env_list(name, default)
    if not hosts:
        raise ConfigError(f"{name} is empty: give the host names the portal answers to, e.g. portal.example.com")
    for host in hosts:
        if not _HOST.match(host):
            raise ConfigError(f"{name}: {host!r} is not a host name (no scheme, port or path), e.g. portal.example.com")
    return hosts


def database_config(name: str, default_sqlite: Path) -> dict:
    """DATABASE_URL parsed into Django's DATABASES entry (a SQLite file by default)."""
    url = env_str(name) or f"sqlite:///{default_sqlite}"
    scheme = urlparse(url).scheme
    if scheme not in {"sqlite", "postgres", "postgresql", "pgsql"}:
        raise ConfigError(f"{name} must be a sqlite:// or postgres:// URL, not {scheme or url!r}")
    try:
        config = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    except ValueError as exc:
        raise ConfigError(f"{name} could not be parsed: {exc}") from None
    if config["ENGINE"].endswith("sqlite3"):
        Path(config["NAME"]).parent.mkdir(parents=True, exist_ok=True)
        config["CONN_MAX_AGE"] = 0
        config.setdefault("OPTIONS", {})
        # WAL lets the background job runner and the web server write without locking each other out.
        config["OPTIONS"].update({"init_command": "PRAGMA journal_mode=WAL;", "transaction_mode": "IMMEDIATE"})
    else:
        # Django's backend whose health check skips a connection proven by the previous request (portal/postgresql).
        config["ENGINE"] = "portal.postgresql"
    if not config["ENGINE"].endswith("sqlite3") and env_bool("DATABASE_PREPARED_STATEMENTS", True):
        # Django binds parameters on the client, so this prepares nothing of its own queries: only the
        # permission engine's query (a server-binding cursor, permissions/compiled.py) is prepared, after
        # psycopg's usual 5 runs per connection. Off behind a pooler that cannot keep prepared statements.
        config.setdefault("OPTIONS", {})["prepare_threshold"] = 5
    return config


def redis_url(name: str) -> str:
    """REDIS_URL, validated when set; empty when unset."""
    url = env_str(name)
    if url and urlparse(url).scheme not in {"redis", "rediss", "unix"}:
        raise ConfigError(f"{name} must be a redis://, rediss:// or unix:// URL, not {url!r}")
    return url


def secret_key(name: str, key_file: Path) -> str:
    """SECRET_KEY from the environment, else generated once into a git-ignored file."""
    value = env_str(name)
    if value:
        if len(value) < 50:
            raise ConfigError(f"{name} must be at least 50 characters long")
        return value
    if key_file.exists():
        return _read_written(key_file)
    key_file.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(64)
    # Created with owner-only permissions: the key signs sessions and password-reset links.
    try:
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process started at the same moment and wrote it first
        return _read_written(key_file)
    with os.fdopen(fd, "w") as handle:
        handle.write(value)
    return value


def _read_written(key_file: Path, wait: float = 2.0) -> str:
    """The generated key, waiting briefly for a process that has created the file but not yet written it."""
    import time

    deadline = time.monotonic() + wait
    while not (value := key_file.read_text().strip()) and time.monotonic() < deadline:
        time.sleep(0.01)
    if not value:
        raise ConfigError(f"{key_file} is empty: delete it or set SECRET_KEY")
    return value
