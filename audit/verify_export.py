"""Verify an audit export without Django or a database: ``python -m audit.verify_export FILE``.

Needs only the standard library, ``cryptography`` (Ed25519) and ``audit/merkle.py`` (standard library).
The format is described in docs/audit-format.md. Exit status 0 when the export verifies, 1 when it
shows any problem, 2 when the file cannot be read. ``--public-keys FILE`` pins the keys to trust (a
JSON list as published at /audit/keys.json); without it the keys inside the export are used, which
proves integrity but not authenticity.

``LogChecker`` is the verification algorithm; ``audit.verify`` feeds it from the database, this
module from an export file, so both report the same problems for the same log.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import json
import sys
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from audit.merkle import CompactRange, verify_consistency, verify_inclusion


def gettext_noop(text: str) -> str:
    """Marks a problem's English text for the portal's translation catalogue (no Django here: the portal
    translates ``Problem.text`` and fills in ``Problem.args``; this file stays standard library + cryptography)."""
    return text


FORMAT = "portcullis-audit-export"
NOTE_PREFIXES = ("index ", "time ", "prev ")
PROBLEM_KINDS = (
    "modified",
    "missing",
    "inserted",
    "reordered",
    "truncated",
    "rewritten",
    "bad_signature",
    "inconsistent_checkpoints",
    "malformed",
)
_ZERO = bytes(32)
EXTRA_EVENT = gettext_noop("an extra event claims position {claim}")


@dataclass(frozen=True)
class Problem:
    """One finding: its kind (see PROBLEM_KINDS), the log position it concerns (or None) and a text;
    ``text`` and ``args`` are the same text before its values were filled in (for translation)."""

    kind: str
    position: int | None
    detail: str
    text: str = field(default="", compare=False)
    args: dict = field(default_factory=dict, compare=False)

    @classmethod
    def of(cls, kind: str, position: int | None, text: str, **args) -> Problem:
        return cls(kind, position, text.format(**args), text, args)

    def __str__(self) -> str:
        where = "" if self.position is None else f" at position {self.position}"
        return f"{self.kind}{where}: {self.detail}"


def log_origin(tenant_id: int) -> str:
    """The first line of a tenant's checkpoint notes: names the log a checkpoint speaks for."""
    return f"portcullis/audit/tenant/{tenant_id}"


def note_text(*, origin: str, tree_size: int, root: bytes, index: int, time: str, prev: str) -> str:
    """The signed text of a checkpoint (C2SP tlog-checkpoint body plus three extension lines)."""
    root_b64 = base64.b64encode(root).decode()
    return f"{origin}\n{tree_size}\n{root_b64}\nindex {index}\ntime {time}\nprev {prev}\n"


def parse_note(text: str) -> dict | None:
    """The fields of a checkpoint note, or None when it is not one."""
    lines = text.split("\n")
    if len(lines) != 7 or lines[-1] != "" or not all(lines[3 + i].startswith(p) for i, p in enumerate(NOTE_PREFIXES)):
        return None
    try:
        size = int(lines[1])
        root = base64.b64decode(lines[2], validate=True)
        index = int(lines[3][len("index ") :])
    except (ValueError, binascii.Error):
        return None
    if len(root) != 32 or str(size) != lines[1] or size < 0:
        return None
    return {
        "origin": lines[0],
        "tree_size": size,
        "root": root,
        "index": index,
        "time": lines[4][len("time ") :],
        "prev": lines[5][len("prev ") :],
    }


def checkpoint_hash(note: str, signature: bytes) -> str:
    """What the next checkpoint's ``prev`` line names: hex(SHA-256(note bytes || signature))."""
    return hashlib.sha256(note.encode("utf-8") + signature).hexdigest()


def signature_ok(public_keys: dict[str, bytes], key_id: str, note: str, signature_b64: str) -> bool:
    """True when ``signature_b64`` is a valid Ed25519 signature of ``note`` by trusted key ``key_id``."""
    public = public_keys.get(key_id)
    if public is None:
        return False
    try:
        signature = base64.b64decode(signature_b64, validate=True)
        Ed25519PublicKey.from_public_bytes(public).verify(signature, note.encode("utf-8"))
    except (InvalidSignature, ValueError, binascii.Error):
        return False
    return True


def _commitment_at(payload: dict, field: str):
    """The commitment (hex) at a personal value's field name: ``actor``, ``target``, ``address``, or
    ``before``/``after`` then one ``.step`` per member name (``~1`` is ``.``, ``~0`` is ``~``) or array index."""
    head, *steps = field.split(".")
    value = payload.get(head)
    if head in ("actor", "target"):
        value = value.get("label") if isinstance(value, dict) and not steps else None
    for step in steps:
        if isinstance(value, dict):
            value = value.get(step.replace("~1", ".").replace("~0", "~"))
        elif isinstance(value, list) and step.isascii() and step.isdigit() and int(step) < len(value):
            value = value[int(step)]
        else:
            return None
    return value.get("$pii") if isinstance(value, dict) else None


class LogChecker:
    """Verifies one tenant's log fed event by event in stored order, against its signed checkpoints."""

    def __init__(self, tenant_id: int, public_keys: dict[str, bytes], checkpoints: list[dict]) -> None:
        self.tenant_id = tenant_id
        self.origin = log_origin(tenant_id)
        self.problems: list[Problem] = []
        self._keys = public_keys
        self._signed: list[dict] = []  # checkpoints whose signature verifies, in order
        self._check_checkpoints(sorted(checkpoints, key=lambda c: c["index"]))
        self._want = {c["tree_size"] for c in self._signed}
        self._roots: dict[int, bytes] = {}
        self._compact = CompactRange()
        self._expected = 0  # the next position the log should hold
        self._missing: set[int] = set()
        self._last_chain = _ZERO  # stored chain hash of the last accepted event
        self._before_last_chain = _ZERO
        self._last_seq: int | None = None
        self._last_clean = True
        self._offset: int | None = 0  # stored position minus recorded position; None: resynchronise
        self.events = 0

    # -- checkpoints ---------------------------------------------------------------------------
    def _check_checkpoints(self, checkpoints: list[dict]) -> None:
        previous = None
        for position, checkpoint in enumerate(checkpoints):
            index = checkpoint["index"]
            note_str = checkpoint["note"]
            try:
                signature = base64.b64decode(checkpoint["signature"], validate=True)
            except (binascii.Error, ValueError):
                signature = b""
            note = parse_note(note_str)
            signed = False
            public = self._keys.get(checkpoint["key_id"])
            if public is None:
                self._add(
                    "bad_signature",
                    None,
                    gettext_noop("checkpoint {index}: signed by unknown key {key}"),
                    index=index,
                    key=checkpoint["key_id"],
                )
            else:
                try:
                    Ed25519PublicKey.from_public_bytes(public).verify(signature, note_str.encode("utf-8"))
                    signed = True
                except (InvalidSignature, ValueError):
                    self._add(
                        "bad_signature",
                        None,
                        gettext_noop("checkpoint {index}: signature does not verify"),
                        index=index,
                    )
            if note is None:
                self._add("bad_signature", None, gettext_noop("checkpoint {index}: its note is malformed"), index=index)
                continue
            if note["origin"] != self.origin:
                self._add(
                    "bad_signature",
                    None,
                    gettext_noop("checkpoint {index}: signed for another log ({origin})"),
                    index=index,
                    origin=note["origin"],
                )
                signed = False
            if (
                note["tree_size"] != checkpoint["tree_size"]
                or note["root"].hex() != checkpoint["root_hash"]
                or note["index"] != checkpoint["index"]
            ):
                self._add(
                    "bad_signature",
                    None,
                    gettext_noop("checkpoint {index}: its fields differ from its signed note"),
                    index=index,
                )
            if note["index"] != position:
                self._add(
                    "inconsistent_checkpoints",
                    None,
                    gettext_noop("checkpoint {index}: checkpoint {missing} is missing"),
                    index=index,
                    missing=position,
                )
            expected_prev = "-" if previous is None else checkpoint_hash(previous["note_str"], previous["signature"])
            if note["prev"] != expected_prev:
                self._add(
                    "inconsistent_checkpoints",
                    None,
                    gettext_noop("checkpoint {index}: does not follow the checkpoint before it"),
                    index=index,
                )
            if previous is not None:
                proof = [bytes.fromhex(h) for h in checkpoint.get("consistency", [])]
                if note["tree_size"] < previous["tree_size"]:
                    self._add(
                        "inconsistent_checkpoints",
                        None,
                        gettext_noop("checkpoint {index}: smaller than the checkpoint before it"),
                        index=index,
                    )
                elif not verify_consistency(
                    previous["tree_size"], note["tree_size"], previous["root"], note["root"], proof
                ):
                    self._add(
                        "inconsistent_checkpoints",
                        None,
                        gettext_noop("checkpoint {index}: not consistent with the checkpoint before it"),
                        index=index,
                    )
            current = {**note, "note_str": note_str, "signature": signature}
            if signed:
                self._signed.append(current)
            previous = current

    # -- events --------------------------------------------------------------------------------
    def _add(self, kind: str, position: int | None, text: str, **args) -> None:
        self.problems.append(Problem.of(kind, position, text, **args))

    def feed(
        self, seq: int, data: bytes, leaf_hex: str, chain_hex: str, personal: dict | None = None, text: str = ""
    ) -> dict | None:
        """Check the next stored event (its stored position, canonical bytes and stored hashes).

        ``personal`` maps field → (salt hex, clear value) when clear values are at hand; ``text`` may
        give the bytes already decoded (faster to parse). Returns the parsed payload (for further
        checks by the caller), or None when the event is unreadable.
        """
        self.events += 1
        hashed = hashlib.sha256(b"\x00" + data)
        leaf = hashed.digest()
        clean = True
        try:
            payload = json.loads(text or data)
            claim, tenant = payload["seq"], payload["tenant"]
            if type(claim) is not int or type(tenant) is not int:
                raise TypeError("seq and tenant must be numbers")
        except (ValueError, KeyError, TypeError):
            self._add("modified", seq, gettext_noop("its bytes are not a readable event"))
            self._compact_append(leaf)
            self._expected = max(self._expected, seq + 1)
            self._last_clean = False
            return None
        if tenant != self.tenant_id:
            self._add(
                "inserted", seq, gettext_noop("an event of another log (tenant {tenant}) was inserted"), tenant=tenant
            )
            self._last_clean = False
            return payload
        if hashed.hexdigest() != leaf_hex:
            self._add("modified", claim, gettext_noop("its content does not match its leaf hash"))
            clean = False
        expected = self._expected
        if claim == expected:
            self._expected = expected + 1
        elif claim > expected:
            self._missing.update(range(expected, claim))
            self._add(
                "missing", expected, gettext_noop("position(s) {first}..{last} missing"), first=expected, last=claim - 1
            )
            self._expected = claim + 1
            clean = False
        elif claim in self._missing:
            self._missing.discard(claim)
            self.problems = [p for p in self.problems if not (p.kind == "missing" and p.position == claim)]
            self._add("reordered", claim, gettext_noop("stored after position {after}"), after=self._expected - 1)
            self._last_clean, self._offset = False, None
            self._compact_append(leaf)
            return payload
        else:
            # A second event claims a position already seen: one of the two was inserted. The genuine one
            # is the one whose chain hash links to the event before the first.
            chain = bytes.fromhex(chain_hex)
            if self._last_seq is not None and chain == hashlib.sha256(self._before_last_chain + leaf).digest():
                self._add("inserted", self._last_seq, EXTRA_EVENT, claim=claim)
                self._last_chain = chain
            else:
                self._add("inserted", seq, EXTRA_EVENT, claim=claim)
            self._last_clean, self._offset = False, None
            return payload
        chain = None
        if clean and self._last_clean:
            link = hashlib.sha256(self._last_chain + leaf)
            if link.hexdigest() == chain_hex:
                chain = link.digest()
            else:
                self._add("modified", claim, gettext_noop("its chain hash does not follow the event before it"))
                clean = False
        if not clean:
            self._offset = None
        elif self._offset is None:
            self._offset = seq - claim  # rows after a gap, a reordering or an insertion are shifted
        elif seq - claim != self._offset:
            self._add("modified", claim, gettext_noop("stored at position {seq}"), seq=seq)
            self._offset, clean = seq - claim, False
        if personal:
            for field, (salt, value) in personal.items():
                expected_commitment = hashlib.sha256(bytes.fromhex(salt) + value.encode("utf-8")).hexdigest()
                if _commitment_at(payload, field) != expected_commitment:
                    self._add(
                        "modified",
                        claim,
                        gettext_noop("personal value {field} does not match its commitment"),
                        field=field,
                    )
        self._compact_append(leaf)
        self._before_last_chain, self._last_chain = self._last_chain, chain or bytes.fromhex(chain_hex)
        self._last_seq = seq
        self._last_clean = clean
        return payload

    def _compact_append(self, leaf: bytes) -> None:
        self._compact.append(leaf)
        if self._compact.size in self._want:
            self._roots[self._compact.size] = self._compact.root()

    def finish(self) -> list[Problem]:
        """All problems found (empty when the log verifies)."""
        for checkpoint in self._signed:
            size = checkpoint["tree_size"]
            root = self._roots.get(size)
            if size == 0 or size > self._compact.size:
                continue
            if root != checkpoint["root"]:
                self._add(
                    "rewritten",
                    size - 1,
                    gettext_noop("events 0..{last} no longer hash to the root signed in checkpoint {index}"),
                    last=size - 1,
                    index=checkpoint["index"],
                )
        if self._signed and self._signed[-1]["tree_size"] > self._expected:
            size = self._signed[-1]["tree_size"]
            self._add(
                "truncated",
                self._expected,
                gettext_noop("the log ends before {size} events (checkpoint {index})"),
                size=size,
                index=self._signed[-1]["index"],
            )
        return self.problems

    @property
    def latest_checkpoint(self) -> dict | None:
        """The latest checkpoint whose signature verifies."""
        return self._signed[-1] if self._signed else None


# -- the export file -------------------------------------------------------------------------------
def verify_file(path: str, pinned_keys: dict[str, bytes] | None = None) -> tuple[dict, list[Problem]]:
    """(header, problems) of an export file."""
    with open(path, encoding="utf-8") as handle:
        return verify_lines(handle, pinned_keys)


def verify_lines(lines, pinned_keys: dict[str, bytes] | None = None) -> tuple[dict, list[Problem]]:
    """(header, problems) of an export given as an iterable of JSON lines."""
    header: dict | None = None
    keys: dict[str, bytes] = {}
    checkpoints: list[dict] = []
    checker: LogChecker | None = None
    proofs: list[tuple[int, bytes, dict]] = []

    def checker_for(header: dict) -> LogChecker:
        return LogChecker(header["tenant"]["id"], pinned_keys if pinned_keys is not None else keys, checkpoints)

    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        record = json.loads(line)
        kind = record.get("record")
        if number == 1:
            if kind != "header" or record.get("format") != FORMAT or record.get("version") != 1:
                return {}, [Problem.of("malformed", None, gettext_noop("not a version 1 portcullis audit export"))]
            header = record
        elif kind == "key":
            keys[record["key_id"]] = base64.b64decode(record["public_key"])
        elif kind == "checkpoint":
            checkpoints.append(record)
        elif kind == "event":
            if checker is None:
                checker = checker_for(header)
            personal = {f: (v["salt"], v["value"]) for f, v in record.get("personal", {}).items()}
            data = base64.b64decode(record["canonical"])
            checker.feed(record["seq"], data, record["leaf_hash"], record["chain_hash"], personal)
            if "proof" in record:
                proofs.append((record["seq"], hashlib.sha256(b"\x00" + data).digest(), record["proof"]))
    if header is None:
        return {}, [Problem.of("malformed", None, gettext_noop("empty export"))]
    if checker is None:
        checker = checker_for(header)
    problems = checker.finish()
    if header.get("events") is not None and header["events"] != checker.events:
        problems.append(
            Problem.of(
                "truncated",
                checker.events,
                gettext_noop("the header announces {count} events"),
                count=header["events"],
            )
        )
    latest = checker.latest_checkpoint
    for seq, leaf, proof in proofs:
        path = [bytes.fromhex(h) for h in proof["path"]]
        if (
            latest is None
            or proof["tree_size"] != latest["tree_size"]
            or not verify_inclusion(seq, proof["tree_size"], leaf, path, latest["root"])
        ):
            problems.append(
                Problem.of("modified", seq, gettext_noop("its inclusion proof does not lead to the latest checkpoint"))
            )
    return header, problems


def _load_pinned(path: str) -> dict[str, bytes]:
    with open(path, encoding="utf-8") as handle:
        data = json.load(handle)
    entries = data.get("keys", data) if isinstance(data, dict) else data
    return {entry["key_id"]: base64.b64decode(entry["public_key"]) for entry in entries}


def _safe(text: str) -> str:
    return "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in text)


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(prog="python -m audit.verify_export", description=__doc__.split("\n")[0])
    parser.add_argument("file", help="an export made by `manage.py audit_export` or the viewer's download")
    parser.add_argument("--public-keys", help="JSON file of trusted public keys (as published at /audit/keys.json)")
    args = parser.parse_args(argv)
    try:
        pinned = _load_pinned(args.public_keys) if args.public_keys else None
        header, problems = verify_file(args.file, pinned)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        sys.stderr.write(f"cannot read the export: {_safe(str(exc))}\n")
        return 2
    tenant = header.get("tenant", {}).get("slug", "?")
    if problems:
        for problem in problems:
            sys.stdout.write(f"{_safe(tenant)}: {_safe(str(problem))}\n")
        sys.stdout.write(f"FAILED: {len(problems)} problem(s)\n")
        return 1
    sys.stdout.write(f"{_safe(tenant)}: OK ({header.get('events', 0)} events)\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
