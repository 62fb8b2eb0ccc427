"""C2SP signed notes, checkpoints and cosignatures (standard library and ``cryptography`` only).

Specifications: c2sp.org/signed-note (v1.0.0), c2sp.org/tlog-checkpoint (v1.0.0),
c2sp.org/tlog-cosignature (v1.0.1). Used by the portal, the witness (``python -m audit.witness``) and the
standalone verifier (``python -m audit.verify_export``), so all three read and write the same bytes.

- A signed note is ``text`` (lines ending in ``\\n``), one empty line, then signature lines
  ``— <name> <base64(key hash[4] || signature)>\\n`` (the dash is U+2014 EM DASH).
- The key hash of an Ed25519 key is ``SHA-256(name || 0x0A || 0x01 || public key)[:4]``; of a
  cosignature/v1 key ``SHA-256(name || 0x0A || 0x04 || public key)[:4]``. Verifiers recompute it from
  the key they trust and the name; a line counts only when both name and key hash match.
- A checkpoint's text is exactly three lines: origin, tree size (decimal), base64 root hash.
- A cosignature/v1 signs ``cosignature/v1\\ntime <T>\\n`` followed by the checkpoint text; its signature
  bytes are the big-endian 8-byte ``T`` then the 64-byte Ed25519 signature.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

DASH = "\u2014"
ED25519 = 0x01
COSIGNATURE_V1 = 0x04
MAX_SIGNATURES = 64
EMPTY_ROOT = hashlib.sha256(b"").digest()


class NoteError(ValueError):
    """The text is not a well-formed signed note or checkpoint."""


def raw_public(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    """The 32 raw bytes of an Ed25519 public key (of a private key's public half)."""
    if isinstance(key, Ed25519PrivateKey):
        key = key.public_key()
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def valid_name(name: str) -> bool:
    """A key name or origin: non-empty, printable, no spaces and no ``+``."""
    return bool(name) and all(ch.isprintable() and not ch.isspace() and ch != "+" for ch in name)


def key_hash(name: str, key_type: int, public: bytes) -> bytes:
    """The 4-byte key hash of a signed-note key: SHA-256(name || "\\n" || type || public key)[:4]."""
    return hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([key_type]) + public).digest()[:4]


@dataclass(frozen=True)
class Verifier:
    """A key a reader trusts: its name, its type (0x01 log key, 0x04 cosigner) and raw public key."""

    name: str
    key_type: int
    public: bytes

    @property
    def hash(self) -> bytes:
        return key_hash(self.name, self.key_type, self.public)

    @property
    def vkey(self) -> str:
        """The C2SP verifier key string: ``name+hex(key hash)+base64(type || public key)``."""
        return f"{self.name}+{self.hash.hex()}+{base64.b64encode(bytes([self.key_type]) + self.public).decode()}"


def parse_vkey(text: str) -> Verifier:
    """A verifier key ``name+hash+base64``; its hash is recomputed and must match."""
    try:
        name, hash_hex, encoded = text.strip().split("+", 2)
        blob = base64.b64decode(encoded, validate=True)
    except (ValueError, binascii.Error):
        raise NoteError("a verifier key is name+hex key hash+base64(type || key)") from None
    if not valid_name(name) or len(blob) != 33 or blob[0] not in (ED25519, COSIGNATURE_V1):
        raise NoteError("a verifier key must name an Ed25519 (0x01) or cosignature/v1 (0x04) key")
    verifier = Verifier(name, blob[0], blob[1:])
    if verifier.hash.hex() != hash_hex.lower():
        raise NoteError("the verifier key's hash does not match its name and key")
    return verifier


@dataclass(frozen=True)
class Signature:
    """One signature line of a note."""

    name: str
    hash: bytes
    signature: bytes

    def line(self) -> str:
        return f"{DASH} {self.name} {base64.b64encode(self.hash + self.signature).decode()}\n"


def split_note(note: str) -> tuple[str, list[Signature]]:
    """(text, signature lines) of a signed note; raises NoteError when it is malformed."""
    if "\r" in note or any(ord(ch) < 0x20 and ch != "\n" for ch in note):
        raise NoteError("a note holds no control characters but newlines")
    cut = note.rfind("\n\n")
    if cut < 0 or not note.endswith("\n"):
        raise NoteError("a signed note is text, an empty line, then signature lines")
    text, block = note[: cut + 1], note[cut + 2 :]
    signatures = []
    for line in block.split("\n")[:-1]:
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != DASH or not valid_name(parts[1]):
            raise NoteError("a signature line is '\u2014 name base64'")
        try:
            blob = base64.b64decode(parts[2], validate=True)
        except binascii.Error:
            raise NoteError("a signature is base64") from None
        if len(blob) < 5:
            raise NoteError("a signature is too short")
        signatures.append(Signature(parts[1], blob[:4], blob[4:]))
    if not signatures or len(signatures) > MAX_SIGNATURES:
        raise NoteError("a signed note carries between 1 and 64 signatures")
    return text, signatures


def sign_line(text: str, name: str, private: Ed25519PrivateKey) -> str:
    """The signature line of a log key (type 0x01) over ``text``."""
    signature = private.sign(text.encode("utf-8"))
    return Signature(name, key_hash(name, ED25519, raw_public(private)), signature).line()


def sign_note(text: str, name: str, private: Ed25519PrivateKey) -> str:
    """``text`` signed by the log key ``name``: a complete signed note with one signature line."""
    return f"{text}\n{sign_line(text, name, private)}"


def cosignature_message(text: str, timestamp: int) -> bytes:
    """The bytes a cosignature/v1 signs over a checkpoint's text."""
    return f"cosignature/v1\ntime {timestamp}\n{text}".encode()


def cosign_line(text: str, name: str, private: Ed25519PrivateKey, timestamp: int) -> str:
    """A witness's cosignature/v1 line over checkpoint ``text`` at ``timestamp`` (Unix seconds)."""
    signature = private.sign(cosignature_message(text, timestamp))
    blob = struct.pack(">Q", timestamp) + signature
    return Signature(name, key_hash(name, COSIGNATURE_V1, raw_public(private)), blob).line()


def check(text: str, signature: Signature, verifier: Verifier) -> int | None:
    """When ``signature`` is ``verifier``'s and verifies: 0 for a log signature, the cosignature's time for
    a cosignature; None when it is not this key's line; raises NoteError when it is but does not verify."""
    if signature.name != verifier.name or signature.hash != verifier.hash:
        return None
    public = Ed25519PublicKey.from_public_bytes(verifier.public)
    try:
        if verifier.key_type == ED25519:
            public.verify(signature.signature, text.encode("utf-8"))
            return 0
        if len(signature.signature) != 72:
            raise InvalidSignature
        (timestamp,) = struct.unpack(">Q", signature.signature[:8])
        public.verify(signature.signature[8:], cosignature_message(text, timestamp))
        return timestamp
    except InvalidSignature:
        raise NoteError(f"the signature of {signature.name} does not verify") from None


@dataclass(frozen=True)
class Checkpoint:
    """The text of a C2SP checkpoint."""

    origin: str
    size: int
    root: bytes

    @property
    def text(self) -> str:
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n"


def parse_checkpoint(text: str) -> Checkpoint:
    """The checkpoint a note's text states (exactly origin, size, root: this log writes no extension lines)."""
    lines = text.split("\n")
    if len(lines) != 4 or lines[-1] != "":
        raise NoteError("a checkpoint is three lines: origin, tree size, root hash")
    origin, size_text, root_text = lines[:3]
    if not valid_name(origin):
        raise NoteError("a checkpoint's origin is non-empty, without spaces or '+'")
    if not size_text.isascii() or not size_text.isdigit() or str(int(size_text)) != size_text:
        raise NoteError("a checkpoint's size is a decimal number without leading zeros")
    try:
        root = base64.b64decode(root_text, validate=True)
    except binascii.Error:
        raise NoteError("a checkpoint's root hash is base64") from None
    if len(root) != 32 or base64.b64encode(root).decode() != root_text:
        raise NoteError("a checkpoint's root hash is 32 bytes in canonical base64")
    size = int(size_text)
    if size == 0 and root != EMPTY_ROOT:
        raise NoteError("an empty tree's root is SHA-256 of nothing")
    return Checkpoint(origin, size, root)
