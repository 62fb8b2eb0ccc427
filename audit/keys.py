"""Ed25519 keys that sign checkpoints: ids, custody, rotation, and the public keys verifiers trust.

Production (DEBUG off and not the ``make run`` demo): the current private key comes from
``AUDIT_SIGNING_KEY`` (base64 of its 32-byte seed) or from ``AUDIT_SIGNING_KEY_FILE``, a file outside the
data directory; nothing is ever generated, and start-up (the system checks) refuses a missing key or a
key file inside the data directory. ``AUDIT_RETIRED_PUBLIC_KEYS`` lists the public keys used before a
rotation, each with the time it was retired (``base64@YYYY-MM-DDTHH:MM:SSZ``): a checkpoint signed by a
retired key is trusted only with independent evidence (a witness's cosignature time) that it was signed
before that time. The demo (``AUDIT_DEMO_KEYS``: DEBUG or PORTCULLIS_DEMO) generates a key once into a
git-ignored JSON file under var/ (``AUDIT_KEY_FILE``); ``manage.py audit_rotate_key`` rotates it. Trusted
public keys come from this configuration only, never from the database an attacker might write.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PrivateFormat, PublicFormat
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from audit import signednote

ALGORITHM = "ed25519"


def raw_public(key: Ed25519PublicKey) -> bytes:
    """The 32 raw bytes of a public key."""
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id(public: bytes) -> str:
    """A key's id: the first 8 bytes of SHA-256 of its raw public key, in hex (16 characters)."""
    return hashlib.sha256(public).hexdigest()[:16]


def _seed(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(Encoding.Raw, PrivateFormat.Raw, encryption_algorithm=_no_encryption())


def _no_encryption():
    from cryptography.hazmat.primitives.serialization import NoEncryption

    return NoEncryption()


def _decode_private(text: str, source: str) -> Ed25519PrivateKey:
    try:
        seed = base64.b64decode(text.strip(), validate=True)
        return Ed25519PrivateKey.from_private_bytes(seed)
    except (binascii.Error, ValueError):
        raise ImproperlyConfigured(f"{source} must be the base64 of a 32-byte Ed25519 private key") from None


def _decode_public(text: str, source: str) -> bytes:
    try:
        raw = base64.b64decode(text.strip(), validate=True)
        Ed25519PublicKey.from_public_bytes(raw)
    except (binascii.Error, ValueError):
        raise ImproperlyConfigured(f"{source} must hold base64 32-byte Ed25519 public keys") from None
    return raw


def _decode_retired(text: str, source: str) -> tuple[bytes, str]:
    """A retired key entry ``base64@YYYY-MM-DDTHH:MM:SSZ``: (raw public key, retirement time)."""
    from datetime import datetime

    key, sep, when = text.strip().partition("@")
    try:
        datetime.strptime(when + "+0000", "%Y-%m-%dT%H:%M:%SZ%z")
    except ValueError:
        raise ImproperlyConfigured(
            f"{source}: each retired key is base64@YYYY-MM-DDTHH:MM:SSZ (the time it was retired)"
        ) from None
    return _decode_public(key, source), when


@dataclass(frozen=True)
class SigningKey:
    """The key that signs new checkpoints."""

    key_id: str
    private: Ed25519PrivateKey

    def sign(self, message: bytes) -> bytes:
        """An Ed25519 signature of ``message``."""
        return self.private.sign(message)

    @property
    def public(self) -> bytes:
        """Its raw public key."""
        return raw_public(self.private.public_key())


def _key_file() -> Path:
    return Path(settings.AUDIT_KEY_FILE)


def demo_keys() -> bool:
    """True in the demo and development (a key may be generated under var/); False in production."""
    return bool(settings.AUDIT_DEMO_KEYS)


def _data_directories() -> list[Path]:
    """Where the data lives: var/ and the SQLite database's directory (a key file must be elsewhere)."""
    dirs = [Path(settings.VAR_DIR).resolve()]
    name = settings.DATABASES["default"].get("NAME")
    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3") and name and str(name) != ":memory:":
        dirs.append(Path(name).resolve().parent)
    return dirs


def custody_problems() -> list[str]:
    """Why the signing key's custody is not acceptable for production (empty when it is, or in the demo)."""
    if demo_keys():
        return []
    if settings.AUDIT_SIGNING_KEY:
        return []
    path = settings.AUDIT_SIGNING_KEY_FILE
    if not path:
        return [
            "production needs the audit signing key from AUDIT_SIGNING_KEY or AUDIT_SIGNING_KEY_FILE "
            "(a file outside the data directory); none is generated"
        ]
    resolved = Path(path).resolve()
    problems = []
    if any(resolved.is_relative_to(d) for d in _data_directories()):
        problems.append("AUDIT_SIGNING_KEY_FILE must be outside the data directory (var/, the database's folder)")
    if not resolved.is_file():
        problems.append("AUDIT_SIGNING_KEY_FILE does not exist")
    return problems


def _read_file() -> dict:
    path = _key_file()
    if path.exists():
        return json.loads(path.read_text())
    return _write_file({"current": base64.b64encode(_seed(Ed25519PrivateKey.generate())).decode(), "retired": []})


def _write_file(data: dict, *, replace: bool = False) -> dict:
    path = _key_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    # Owner-only: the key signs checkpoints. A fresh file is created exclusively (no race between processes).
    temporary = path.with_suffix(".tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    fd = os.open(temporary if replace else path, flags if replace else flags | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(data, handle)
    if replace:
        os.replace(temporary, path)
    return data


def _from_env() -> bool:
    return bool(settings.AUDIT_SIGNING_KEY)


def signing_key() -> SigningKey:
    """The current signing key (environment or key file in production; the generated file in the demo)."""
    if _from_env():
        private = _decode_private(settings.AUDIT_SIGNING_KEY, "AUDIT_SIGNING_KEY")
    elif settings.AUDIT_SIGNING_KEY_FILE:
        problems = custody_problems()
        if problems:
            raise ImproperlyConfigured(problems[0])
        private = _decode_private(Path(settings.AUDIT_SIGNING_KEY_FILE).read_text(), "AUDIT_SIGNING_KEY_FILE")
    elif not demo_keys():
        raise ImproperlyConfigured(custody_problems()[0])
    else:
        try:
            data = _read_file()
        except FileExistsError:  # another process created it between our check and our write
            data = json.loads(_key_file().read_text())
        private = _decode_private(data["current"], str(_key_file()))
    return SigningKey(key_id(raw_public(private.public_key())), private)


def _retired() -> list[tuple[bytes, str]]:
    if _from_env() or settings.AUDIT_SIGNING_KEY_FILE or not demo_keys():
        return [_decode_retired(text, "AUDIT_RETIRED_PUBLIC_KEYS") for text in settings.AUDIT_RETIRED_PUBLIC_KEYS]
    return [_decode_retired(text, str(_key_file())) for text in _read_file().get("retired", [])]


def trusted_keys() -> dict[str, dict]:
    """{key id: {"public": raw key, "retired_at": time or None}}: the only keys a checkpoint may carry."""
    current = signing_key()
    keys = {current.key_id: {"public": current.public, "retired_at": None}}
    for raw, when in _retired():
        keys.setdefault(key_id(raw), {"public": raw, "retired_at": when})
    return keys


def trusted_public_keys() -> dict[str, bytes]:
    """{key id: raw public key} of the current and retired keys."""
    return {kid: entry["public"] for kid, entry in trusted_keys().items()}


def published_keys() -> list[dict]:
    """The public keys as published (URL and export): id, algorithm, base64 raw key, current, retired_at."""
    current = signing_key().key_id
    published = []
    for kid, entry in trusted_keys().items():
        record = {"key_id": kid, "algorithm": ALGORITHM, "public_key": base64.b64encode(entry["public"]).decode()}
        record["current"] = kid == current
        if entry["retired_at"]:
            record["retired_at"] = entry["retired_at"]
        published.append(record)
    return published


def log_vkey(tenant_id: int) -> str:
    """The C2SP verifier key of a tenant's log (key name = the log's origin): what its witnesses trust."""
    from audit.verify_export import log_origin

    return signednote.Verifier(log_origin(tenant_id), signednote.ED25519, signing_key().public).vkey


def rotate() -> SigningKey:
    """Embedded default only: a new current key; the old public key stays trusted. Returns the new key."""
    if _from_env() or settings.AUDIT_SIGNING_KEY_FILE or not demo_keys():
        raise ImproperlyConfigured(
            "AUDIT_SIGNING_KEY comes from the environment: rotate by setting a new key and adding the old "
            "public key to AUDIT_RETIRED_PUBLIC_KEYS (docs/audit-operations.md)"
        )
    from django.utils import timezone

    data = _read_file()
    old = _decode_private(data["current"], str(_key_file()))
    now = timezone.now().strftime("%Y-%m-%dT%H:%M:%SZ")
    retired = list(data.get("retired", [])) + [f"{base64.b64encode(raw_public(old.public_key())).decode()}@{now}"]
    new = Ed25519PrivateKey.generate()
    _write_file({"current": base64.b64encode(_seed(new)).decode(), "retired": retired}, replace=True)
    return signing_key()
