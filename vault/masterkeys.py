"""Master keys (key-encryption keys) that wrap every tenant's data keys.

Production: ``PORTCULLIS_MASTER_KEYS`` = ``id:base64key[,id:base64key…]`` from a secrets manager;
the LAST entry is the current one (new wraps use it), earlier ones only unwrap until
``rotate_keys`` has re-wrapped everything. Embedded default: one key generated on first run into
``var/master_keys`` (git-ignored, owner-only). Master keys are never derived from SECRET_KEY.
"""

from __future__ import annotations

import base64
import os
import secrets
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.conf import settings

from portal.config import ConfigError

ENV_NAME = "PORTCULLIS_MASTER_KEYS"


@dataclass(frozen=True)
class MasterKeys:
    """The master keys by id, and the id of the current one."""

    keys: dict[str, bytes]
    current_id: str

    @property
    def current(self) -> bytes:
        return self.keys[self.current_id]


def parse(raw: str) -> MasterKeys:
    """``id:base64key,…`` into MasterKeys; each key must be 32 bytes (AES-256)."""
    keys: dict[str, bytes] = {}
    last = ""
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        key_id, sep, encoded = item.partition(":")
        if not sep or not key_id.isalnum() or len(key_id) > 16:
            raise ConfigError(f"{ENV_NAME} entries look like id:base64key (id: up to 16 letters or digits)")
        try:
            key = base64.b64decode(encoded, validate=True)
        except ValueError:
            raise ConfigError(f"{ENV_NAME}: the key of {key_id!r} is not valid base64") from None
        if len(key) != 32:
            raise ConfigError(f"{ENV_NAME}: the key of {key_id!r} must be 32 bytes, not {len(key)}")
        keys[key_id] = key
        last = key_id
    if not keys:
        raise ConfigError(f"{ENV_NAME} holds no key")
    return MasterKeys(keys=keys, current_id=last)


def generate_entry(key_id: str) -> str:
    """A new ``id:base64key`` entry (for operators: ``python manage.py rotate_keys --new-master-key``)."""
    return f"{key_id}:{base64.b64encode(secrets.token_bytes(32)).decode()}"


def _key_file() -> Path:
    return Path(settings.VAR_DIR) / "master_keys"


@cache
def load() -> MasterKeys:
    """The configured master keys (cached for the process)."""
    raw = os.environ.get(ENV_NAME, "").strip()
    if raw:
        return parse(raw)
    path = _key_file()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process created it first
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(generate_entry("local1"))
    return parse(path.read_text())
