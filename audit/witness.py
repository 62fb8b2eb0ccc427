"""A C2SP tlog-witness: ``python -m audit.witness --key FILE --state FILE --logs FILE [--listen HOST:PORT]``.

Its own process, its own Ed25519 key and state file; it shares nothing with the portal (standard library,
``cryptography``, ``audit/merkle.py`` and ``audit/signednote.py`` only: no Django, no database of the portal).
A tenant, an auditor or a third party runs it. It speaks c2sp.org/tlog-witness v1.0.0:

``POST /add-checkpoint`` with ``old <size>\\n``, 0..63 base64 consistency-proof lines, an empty line and a
signed checkpoint. It cosigns (cosignature/v1) only a checkpoint signed by the log's trusted key and
consistent with the last checkpoint it cosigned for that origin, persists the new state, then answers 200
with its cosignature line. Refusals: 400 malformed or old size above the checkpoint's; 403 not signed by the
log's key; 404 unknown origin; 409 ``old`` differs from the size it last cosigned (body ``<size>\\n``,
``Content-Type: text/x.tlog.size``), or the same size with another root (a fork; plain text body); 422 a
consistency proof that does not verify (a fork or a rewritten history).

``GET /<hex SHA-256(origin)>/checkpoint`` answers the latest checkpoint it cosigned for that origin (the
signed note with its cosignature): what an auditor keeps as a root of trust.

``--logs FILE`` lists the logs it witnesses, one ``log <vkey>`` line each (the vkey's name is the origin);
it is read again on every request, so logs can be added without a restart. ``--vkey`` prints the
witness's verifier key and exits.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import os
import sqlite3
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit import signednote
from audit.merkle import verify_consistency

MAX_BODY = 64 * 1024
MAX_PROOF = 63
SIZE_TYPE = "text/x.tlog.size"


class Refusal(Exception):
    """An HTTP answer other than 200."""

    def __init__(self, status: int, text: str, content_type: str = "text/plain; charset=utf-8") -> None:
        super().__init__(text)
        self.status, self.text, self.content_type = status, text, content_type


def load_key(path: Path) -> Ed25519PrivateKey:
    """The witness's private key (base64 of the 32-byte seed), created owner-only on first start."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        seed = os.urandom(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(base64.b64encode(seed).decode() + "\n")
    return Ed25519PrivateKey.from_private_bytes(base64.b64decode(path.read_text().strip(), validate=True))


def read_logs(path: Path) -> dict[str, signednote.Verifier]:
    """{origin: the log's verifier key} from a ``log <vkey>`` file (blank lines and ``#`` comments ignored)."""
    logs = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        word, _, vkey = line.partition(" ")
        if word != "log":
            raise ValueError(f"unknown line in {path}: {line[:40]!r}")
        verifier = signednote.parse_vkey(vkey)
        logs[verifier.name] = verifier
    return logs


def parse_request(body: bytes) -> tuple[int, list[bytes], str]:
    """(old size, consistency proof, signed checkpoint) of an add-checkpoint body; Refusal 400 if malformed."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Refusal(400, "the body is not UTF-8") from None
    head, sep, note = text.partition("\n\n")
    lines = head.split("\n")
    if not sep or not lines[0].startswith("old "):
        raise Refusal(400, "the body starts with 'old <size>', proof lines, an empty line")
    old_text = lines[0][4:]
    if not old_text.isascii() or not old_text.isdigit() or str(int(old_text)) != old_text:
        raise Refusal(400, "the old size is a decimal number")
    if len(lines) - 1 > MAX_PROOF:
        raise Refusal(400, "at most 63 proof lines")
    try:
        proof = [base64.b64decode(line, validate=True) for line in lines[1:]]
    except binascii.Error:
        raise Refusal(400, "proof lines are base64") from None
    if any(len(p) != 32 for p in proof):
        raise Refusal(400, "proof hashes are 32 bytes")
    return int(old_text), proof, note


class Witness:
    """The witness's logic and state; HTTP is a thin layer over ``add_checkpoint``."""

    def __init__(self, key: Ed25519PrivateKey, name: str, state: Path, logs: Path) -> None:
        self.key, self.name, self.logs_path = key, name, logs
        self.verifier = signednote.Verifier(name, signednote.COSIGNATURE_V1, signednote.raw_public(key))
        self.state = state
        state.parent.mkdir(parents=True, exist_ok=True)
        with self._db() as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS log (origin TEXT PRIMARY KEY, size INTEGER NOT NULL, "
                "root BLOB NOT NULL, note TEXT NOT NULL)"
            )
        os.chmod(state, 0o600)
        self._lock = threading.Lock()

    def _db(self) -> sqlite3.Connection:
        return sqlite3.connect(self.state, timeout=30, isolation_level=None)

    def latest(self, origin: str) -> str | None:
        """The latest checkpoint it cosigned for ``origin`` (signed note with its cosignature), if any."""
        with self._db() as db:
            row = db.execute("SELECT note FROM log WHERE origin = ?", (origin,)).fetchone()
        return row[0] if row else None

    def latest_by_hash(self, origin_hash: str) -> str | None:
        with self._db() as db:
            for origin, note in db.execute("SELECT origin, note FROM log"):
                if hashlib.sha256(origin.encode()).hexdigest() == origin_hash:
                    return note
        return None

    def add_checkpoint(self, body: bytes) -> str:
        """Check and cosign; returns the cosignature line, or raises Refusal."""
        old, proof, note = parse_request(body)
        try:
            text, signatures = signednote.split_note(note)
            checkpoint = signednote.parse_checkpoint(text)
        except signednote.NoteError as exc:
            raise Refusal(400, str(exc)) from None
        log = read_logs(self.logs_path).get(checkpoint.origin)
        if log is None:
            raise Refusal(404, "unknown log")
        try:
            signed = any(signednote.check(text, s, log) is not None for s in signatures)
        except signednote.NoteError:
            raise Refusal(403, "the log's signature does not verify") from None
        if not signed:
            raise Refusal(403, "not signed by the log's key")
        if old > checkpoint.size:
            raise Refusal(400, "old size is larger than the checkpoint's")
        with self._lock, self._db() as db:  # check-then-update is atomic (one process, one writer)
            db.execute("BEGIN IMMEDIATE")
            try:
                row = db.execute("SELECT size, root FROM log WHERE origin = ?", (checkpoint.origin,)).fetchone()
                size, root = (0, signednote.EMPTY_ROOT) if row is None else (row[0], bytes(row[1]))
                if old != size:
                    raise Refusal(409, f"{size}\n", SIZE_TYPE)
                if old == checkpoint.size:
                    if proof or checkpoint.root != root:
                        self._alarm(checkpoint, "same size, different root")
                        raise Refusal(409, "fork: same size as the checkpoint cosigned before, different root")
                elif old == 0:
                    if proof:
                        raise Refusal(422, "a proof from size 0 must be empty")
                elif not verify_consistency(old, checkpoint.size, root, checkpoint.root, proof):
                    self._alarm(checkpoint, f"not consistent with size {old}")
                    raise Refusal(422, "fork: the checkpoint is not consistent with the one cosigned before")
                line = signednote.cosign_line(text, self.name, self.key, int(time.time()))
                kept = note + line
                db.execute(
                    "INSERT INTO log (origin, size, root, note) VALUES (?, ?, ?, ?) ON CONFLICT(origin) DO UPDATE "
                    "SET size = excluded.size, root = excluded.root, note = excluded.note",
                    (checkpoint.origin, checkpoint.size, checkpoint.root, kept),
                )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return line

    def _alarm(self, checkpoint: signednote.Checkpoint, why: str) -> None:
        origin = checkpoint.origin.encode("unicode_escape").decode()
        sys.stderr.write(f"witness: REFUSED a fork of {origin} at size {checkpoint.size}: {why}\n")
        sys.stderr.flush()


def make_handler(witness: Witness):
    class Handler(BaseHTTPRequestHandler):
        server_version = "portcullis-witness"

        def log_message(self, format, *args):  # noqa: A002  (quiet: refusals are logged by the witness)
            return

        def _answer(self, status: int, text: str, content_type: str = "text/plain; charset=utf-8") -> None:
            data = text.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self):  # noqa: N802
            if self.path != "/add-checkpoint":
                return self._answer(404, "not found\n")
            length = int(self.headers.get("Content-Length") or 0)
            if length <= 0 or length > MAX_BODY:
                return self._answer(400, "body missing or too large\n")
            try:
                line = witness.add_checkpoint(self.rfile.read(length))
            except Refusal as refusal:
                text = refusal.text if refusal.text.endswith("\n") else refusal.text + "\n"
                return self._answer(refusal.status, text, refusal.content_type)
            return self._answer(200, line)

        def do_GET(self):  # noqa: N802
            parts = self.path.strip("/").split("/")
            if len(parts) == 2 and parts[1] == "checkpoint" and len(parts[0]) == 64:
                note = witness.latest_by_hash(parts[0].lower())
                if note is not None:
                    return self._answer(200, note)
            return self._answer(404, "not found\n")

    return Handler


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m audit.witness", description=__doc__.split("\n")[0])
    parser.add_argument("--key", required=True, type=Path, help="the witness's private key file (created if absent)")
    parser.add_argument("--state", type=Path, help="the witness's state (SQLite file, created if absent)")
    parser.add_argument("--logs", type=Path, help="file of 'log <vkey>' lines: the logs it witnesses")
    parser.add_argument("--name", default="portcullis-witness", help="the witness's key name")
    parser.add_argument("--listen", default="127.0.0.1:0", help="HOST:PORT (port 0: any free port)")
    parser.add_argument("--vkey", action="store_true", help="print the witness's verifier key and exit")
    args = parser.parse_args(argv)
    if not signednote.valid_name(args.name):
        parser.error("--name: no spaces or '+'")
    key = load_key(args.key)
    if args.vkey:
        verifier = signednote.Verifier(args.name, signednote.COSIGNATURE_V1, signednote.raw_public(key))
        sys.stdout.write(verifier.vkey + "\n")
        return 0
    if args.state is None or args.logs is None:
        parser.error("--state and --logs are required to serve")
    host, _, port = args.listen.rpartition(":")
    witness = Witness(key, args.name, args.state, args.logs)
    server = ThreadingHTTPServer((host or "127.0.0.1", int(port)), make_handler(witness))
    sys.stdout.write(f"witness {witness.verifier.vkey} listening on http://{host}:{server.server_address[1]}\n")
    sys.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
