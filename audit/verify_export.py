"""Verify an audit export (or a customer's receipt) without Django or a database:
``python -m audit.verify_export FILE [--public-keys keys.json] [--witness VKEY]... [--quorum K]
[--trusted-checkpoint FILE]... [--witness-url URL]... [--tsa-roots PEM] [--interval-minutes N] [--receipt]``.

Needs only the standard library, ``cryptography`` (Ed25519), ``audit/merkle.py`` and ``audit/signednote.py``
(and ``rfc3161-client`` when ``--tsa-roots`` asks for timestamps to be checked). The format is described in
docs/audit-format.md. Exit status 0 when the input verifies, 1 when it shows any problem, 2 when it cannot
be read. ``--public-keys`` pins the log keys (as published at /audit/keys.json); without it the keys inside
the export are used, which proves integrity but not authenticity. Witness keys, the quorum and checkpoints
kept outside the database are the roots of trust that expose a deleted, cut or re-signed log.

``LogChecker`` is the verification algorithm; ``audit.verify`` feeds it from the database, this
module from an export file, so both report the same problems for the same log.
"""

from __future__ import annotations

import argparse
import base64
import calendar
import hashlib
import json
import os
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime

from audit import signednote
from audit.merkle import CompactRange, Tree, verify_consistency, verify_inclusion


def gettext_noop(text: str) -> str:
    """Marks a problem's English text for the portal's translation catalogue (no Django here: the portal
    translates ``Problem.text`` and fills in ``Problem.args``; this file stays standard library + cryptography)."""
    return text


FORMAT = "portcullis-audit-export"
VERSION = 2
PROBLEM_KINDS = (
    "modified",
    "missing",
    "inserted",
    "reordered",
    "truncated",
    "rewritten",
    "bad_signature",
    "inconsistent_checkpoints",
    "unwitnessed",
    "rollback",
    "fork",
    "stale",
    "bad_time",
    "bad_timestamp",
    "malformed",
)
_ZERO = bytes(32)
EXTRA_EVENT = gettext_noop("an extra event claims position {claim}")
CLOCK_SKEW = 60  # seconds a checkpoint's recorded time may exceed its earliest cosignature's time


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


@dataclass
class Trust:
    """What a verifier trusts beyond the log itself (its roots of trust), all from outside the database.

    ``witnesses``: witness verifier keys (cosignature/v1); ``quorum``: how many of them must cosign each
    checkpoint; ``checkpoints``: signed notes kept earlier (a witness's latest cosigned checkpoint, an earlier
    export's latest checkpoint); ``retired``: {key id: Unix time of its retirement}; ``now`` and ``interval``
    (seconds): an event older than two intervals must be covered by a checkpoint; ``max_delay``: how long
    before its earliest cosignature a checkpoint's recorded time may be.
    """

    witnesses: list[signednote.Verifier] = field(default_factory=list)
    quorum: int = 0
    checkpoints: list[str] = field(default_factory=list)
    retired: dict[str, int] = field(default_factory=dict)
    now: float | None = None
    interval: int | None = None
    max_delay: int = 900
    tsa_roots: list[bytes] = field(default_factory=list)  # PEM root certificates of trusted TSAs


def split_pem(data: bytes) -> list[bytes]:
    """The PEM certificates in a file's bytes."""
    marker = b"-----END CERTIFICATE-----"
    return [part.strip() + b"\n" + marker + b"\n" for part in data.split(marker) if b"-----BEGIN" in part]


def timestamp_time(token_b64: str, message: bytes, roots: list[bytes]) -> int | None:
    """The genTime (Unix seconds) of an RFC 3161 time-stamp response over ``message`` that verifies against one
    of ``roots``; None when it does not. Needs the ``rfc3161-client`` package (imported only here)."""
    from cryptography import x509
    from rfc3161_client import VerifierBuilder, decode_timestamp_response

    try:
        response = decode_timestamp_response(base64.b64decode(token_b64, validate=True))
        builder = VerifierBuilder()
        for pem in roots:
            builder = builder.add_root_certificate(x509.load_pem_x509_certificate(pem))
        builder.build().verify_message(response, message)
        return calendar.timegm(response.tst_info.gen_time.utctimetuple())
    except Exception:  # noqa: BLE001  (any parsing or verification failure means: not a valid token)
        return None


def log_origin(tenant_id: int) -> str:
    """The first line of a tenant's checkpoints (and the name of the key that signs them)."""
    return f"portcullis/audit/tenant/{tenant_id}"


def unix_time(text: str | None) -> int | None:
    """Seconds since the epoch of ``YYYY-MM-DDTHH:MM:SS[.ffffff]Z`` (None when absent or malformed)."""
    if not text:
        return None
    for pattern in ("%Y-%m-%dT%H:%M:%S.%fZ%z", "%Y-%m-%dT%H:%M:%SZ%z"):
        try:
            return calendar.timegm(datetime.strptime(text + "+0000", pattern).utctimetuple())  # noqa: DTZ007
        except ValueError:
            continue
    return None


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
    """Verifies one tenant's log fed event by event in stored order, against its signed checkpoints and, when
    given, the roots of trust in ``trust`` (witness keys and quorum, checkpoints kept outside the database)."""

    def __init__(
        self, tenant_id: int, public_keys: dict[str, bytes], checkpoints: list[dict], trust: Trust | None = None
    ) -> None:
        self.tenant_id = tenant_id
        self.origin = log_origin(tenant_id)
        self.problems: list[Problem] = []
        self._keys = public_keys
        self.trust = trust or Trust()
        self._signed: list[dict] = []  # checkpoints whose signature verifies, in order
        self._check_checkpoints(sorted(checkpoints, key=lambda c: c["index"]))
        self._trusted = self._check_trusted(self.trust.checkpoints)
        self._want = {c["tree_size"] for c in self._signed} | {c.size for c in self._trusted}
        covered = [c["tree_size"] for c in self._signed if c["witnessed"]]
        self._covered = max(covered, default=0)  # events below this size are under a (witnessed) checkpoint
        self._uncovered_time: int | None = None
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
        self._accepted = 0  # events checked by the parallel verifier (``accept_clean_run``)

    # -- checkpoints ---------------------------------------------------------------------------
    def _log_signer(self, text: str, signatures: list) -> tuple[str | None, bool]:
        """(id of the trusted key whose signature verifies, whether a trusted key's signature failed)."""
        signer, failed = None, False
        for kid, public in self._keys.items():
            verifier = signednote.Verifier(self.origin, signednote.ED25519, public)
            for signature in signatures:
                try:
                    if signednote.check(text, signature, verifier) is not None:
                        signer = signer or kid
                except signednote.NoteError:
                    failed = True
        return signer, failed

    def _cosignatures(self, text: str, signatures: list, index: int | None) -> dict[str, int]:
        """{witness name: cosignature time} of the trusted witnesses whose cosignature verifies."""
        times: dict[str, int] = {}
        for witness in self.trust.witnesses:
            for signature in signatures:
                try:
                    found = signednote.check(text, signature, witness)
                except signednote.NoteError:
                    self._add(
                        "bad_signature",
                        None,
                        gettext_noop("checkpoint {index}: the cosignature of {witness} does not verify"),
                        index=index,
                        witness=witness.name,
                    )
                    continue
                if found is not None:
                    times.setdefault(witness.name, found)
        return times

    def _check_checkpoints(self, checkpoints: list[dict]) -> None:
        previous = None
        quorum = self.trust.quorum if self.trust.witnesses else 0
        cosigned: list[tuple[int, int]] = []  # (index, trusted cosignatures) of every well-formed checkpoint
        timestamped: list[tuple[int, bool]] = []  # (index, has a valid trusted timestamp)
        for position, checkpoint in enumerate(checkpoints):
            index = checkpoint["index"]
            try:
                text, signatures = signednote.split_note(checkpoint["note"])
                note = signednote.parse_checkpoint(text)
            except signednote.NoteError:
                self._add("bad_signature", None, gettext_noop("checkpoint {index}: its note is malformed"), index=index)
                continue
            if note.origin != self.origin:
                self._add(
                    "bad_signature",
                    None,
                    gettext_noop("checkpoint {index}: signed for another log ({origin})"),
                    index=index,
                    origin=note.origin,
                )
                continue
            signer, failed = self._log_signer(text, signatures)
            if signer is None:
                self._add(
                    "bad_signature",
                    None,
                    gettext_noop("checkpoint {index}: signature does not verify")
                    if failed
                    else gettext_noop("checkpoint {index}: not signed by a trusted key"),
                    index=index,
                )
            if note.size != checkpoint["tree_size"] or note.root.hex() != checkpoint["root_hash"]:
                self._add(
                    "bad_signature",
                    None,
                    gettext_noop("checkpoint {index}: its fields differ from its signed note"),
                    index=index,
                )
            if index != position:
                self._add(
                    "inconsistent_checkpoints",
                    None,
                    gettext_noop("checkpoint {index}: checkpoint {missing} is missing"),
                    index=index,
                    missing=position,
                )
            times = self._cosignatures(text, signatures, index)
            cosigned.append((index, len(times)))
            earliest = min(times.values(), default=None)
            claimed = unix_time(checkpoint.get("time"))
            stamped = self._check_timestamps(checkpoint, text, index, claimed)
            timestamped.append((index, stamped is not None))
            if earliest is not None and (
                claimed is None or claimed > earliest + CLOCK_SKEW or earliest - claimed > self.trust.max_delay
            ):
                self._add(
                    "bad_time",
                    None,
                    gettext_noop("checkpoint {index}: its time {time} does not agree with its cosignatures"),
                    index=index,
                    time=checkpoint.get("time"),
                )
            # A retired key's signature needs independent evidence (a trusted witness's cosignature time) that
            # it was made before the retirement; a verifier given no witness can only read the claimed time.
            evidence = earliest if self.trust.witnesses else claimed
            if stamped is not None:
                evidence = stamped if evidence is None else min(evidence, stamped)
            retired_at = self.trust.retired.get(signer) if signer else None
            if retired_at is not None and (evidence is None or evidence > retired_at):
                self._add(
                    "bad_signature",
                    None,
                    gettext_noop("checkpoint {index}: signed by key {key} with no proof it was before its retirement"),
                    index=index,
                    key=signer,
                )
                signer = None
            if previous is not None:
                proof = [bytes.fromhex(h) for h in checkpoint.get("consistency", [])]
                if note.size < previous["tree_size"]:
                    self._add(
                        "inconsistent_checkpoints",
                        None,
                        gettext_noop("checkpoint {index}: smaller than the checkpoint before it"),
                        index=index,
                    )
                elif not verify_consistency(previous["tree_size"], note.size, previous["root"], note.root, proof):
                    self._add(
                        "inconsistent_checkpoints",
                        None,
                        gettext_noop("checkpoint {index}: not consistent with the checkpoint before it"),
                        index=index,
                    )
            current = {
                "index": index,
                "tree_size": note.size,
                "root": note.root,
                "witnessed": len(times) >= quorum,
                "note": checkpoint["note"],
            }
            if signer is not None:
                self._signed.append(current)
            previous = current
        # Every checkpoint from the first one the witnesses cosigned on, and the latest one, need the quorum
        # (checkpoints made before the log had witnesses are not asked for cosignatures they never had).
        first = next((n for n, (_, count) in enumerate(cosigned) if quorum and count >= quorum), None)
        first_stamp = next((n for n, (_, ok) in enumerate(timestamped) if ok), None)
        for number, (index, ok) in enumerate(timestamped):
            last = number == len(timestamped) - 1
            if self.trust.tsa_roots and not ok and ((first_stamp is not None and number > first_stamp) or last):
                self._add(
                    "bad_timestamp", None, gettext_noop("checkpoint {index}: no valid trusted timestamp"), index=index
                )
        for number, (index, count) in enumerate(cosigned):
            if count < quorum and ((first is not None and number > first) or number == len(cosigned) - 1):
                self._add(
                    "unwitnessed",
                    None,
                    gettext_noop("checkpoint {index}: {count} of the {quorum} witness cosignatures it needs"),
                    index=index,
                    count=count,
                    quorum=quorum,
                )

    def _check_timestamps(self, checkpoint: dict, text: str, index: int, claimed: int | None) -> int | None:
        """The earliest genTime of the checkpoint's valid timestamps (None if none); reports invalid ones, and
        a recorded time later than a token's genTime."""
        if not self.trust.tsa_roots:
            return None
        earliest = None
        for token in checkpoint.get("timestamps", []):
            when = timestamp_time(token, text.encode("utf-8"), self.trust.tsa_roots)
            if when is None:
                self._add(
                    "bad_timestamp", None, gettext_noop("checkpoint {index}: a timestamp does not verify"), index=index
                )
                continue
            if claimed is None or claimed > when + CLOCK_SKEW:
                self._add(
                    "bad_time",
                    None,
                    gettext_noop("checkpoint {index}: its time {time} is later than its trusted timestamp"),
                    index=index,
                    time=checkpoint.get("time"),
                )
            earliest = when if earliest is None else min(earliest, when)
        return earliest

    def _check_trusted(self, notes: list[str]) -> list[signednote.Checkpoint]:
        """The kept checkpoints of this log that a trusted log key or witness signed."""
        trusted = []
        for number, kept in enumerate(notes):
            try:
                text, signatures = signednote.split_note(kept)
                note = signednote.parse_checkpoint(text)
            except signednote.NoteError:
                self._add("malformed", None, gettext_noop("trusted checkpoint {number} is malformed"), number=number)
                continue
            if note.origin != self.origin:
                continue  # a root of trust of another log
            signer, _ = self._log_signer(text, signatures)
            if signer is None and not self._cosignatures(text, signatures, None):
                self._add(
                    "bad_signature",
                    None,
                    gettext_noop("trusted checkpoint of {size} events: signed by no trusted key or witness"),
                    size=note.size,
                )
                continue
            trusted.append(note)
        return trusted

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
        if claim == self._covered and self._uncovered_time is None:
            self._uncovered_time = unix_time(payload.get("time"))
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

    def accept_clean_run(self, count: int, roots: dict[int, bytes], uncovered_time: int | None) -> None:
        """Take ``count`` events, positions 0..count-1, that ``audit.verify_parallel`` checked as ``feed`` would
        and found clean (readable, of this log, in order, leaf and chain hashes matching, commitments opening):
        ``roots`` holds the Merkle root at each size this checker wants, ``uncovered_time`` the time of the
        first event no witnessed checkpoint covers (if among them). Only on a checker fed nothing yet."""
        if self.events or self._accepted:
            raise ValueError("accept_clean_run takes a whole log, before any event")
        self.events = self._expected = self._accepted = count
        self._roots.update(roots)
        if self._uncovered_time is None and self._covered < count:
            self._uncovered_time = uncovered_time
        self._last_seq = count - 1 if count else None

    def wanted_sizes(self) -> set[int]:
        """The tree sizes whose roots the checkpoints and roots of trust name."""
        return set(self._want)

    @property
    def covered(self) -> int:
        """Events below this position are under a witnessed checkpoint."""
        return self._covered

    def _compact_append(self, leaf: bytes) -> None:
        self._compact.append(leaf)
        if self._compact.size in self._want:
            self._roots[self._compact.size] = self._compact.root()

    def finish(self) -> list[Problem]:
        """All problems found (empty when the log verifies)."""
        for checkpoint in self._signed:
            size = checkpoint["tree_size"]
            root = self._roots.get(size)
            if size == 0 or size > self._compact.size + self._accepted:
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
        self._check_roots_of_trust()
        return self.problems

    def _check_roots_of_trust(self) -> None:
        largest = max((c["tree_size"] for c in self._signed), default=-1)
        for kept in self._trusted:
            if kept.size > self._expected:
                self._add(
                    "rollback",
                    self._expected,
                    gettext_noop("the log holds {count} events, fewer than the {size} of a checkpoint kept outside it"),
                    count=self._expected,
                    size=kept.size,
                )
            elif kept.size and self._roots.get(kept.size) != kept.root:
                self._add(
                    "fork",
                    kept.size - 1,
                    gettext_noop("events 0..{last} do not hash to the root of the checkpoint kept outside the log"),
                    last=kept.size - 1,
                )
            if largest < kept.size:
                self._add(
                    "rollback",
                    None,
                    gettext_noop("no checkpoint of {size} events or more, though one was witnessed outside the log"),
                    size=kept.size,
                )
        trust = self.trust
        if trust.now is not None and trust.interval and self._uncovered_time is not None:
            if self._uncovered_time < trust.now - 2 * trust.interval:
                self._add(
                    "stale",
                    self._covered,
                    gettext_noop("event {seq} is older than two checkpoint intervals and no checkpoint covers it"),
                    seq=self._covered,
                )

    @property
    def latest_checkpoint(self) -> dict | None:
        """The latest checkpoint whose signature verifies."""
        return self._signed[-1] if self._signed else None


# -- the export file -------------------------------------------------------------------------------
# Files from this size are checked by the parallel verifier first (audit/verify_parallel.py), when the machine
# has more than one core; below it, or when the parallel pass sees anything unusual, the sequential one.
PARALLEL_FROM_BYTES = 64 * 1024 * 1024


def verify_file(
    path: str,
    pinned_keys: dict[str, bytes] | None = None,
    trust: Trust | None = None,
    *,
    processes: int | None = None,
    parallel_from: int = PARALLEL_FROM_BYTES,
) -> tuple[dict, list[Problem]]:
    """(header, problems) of an export file.

    A large file on a machine with several cores is first read by ``processes`` processes at once
    (``audit.verify_parallel``): that pass accepts only an export that the sequential reading below would
    find with no problem in its events and proofs, and gives the same answer; on anything else it steps
    aside and the sequential reading names the problems.
    """
    processes = processes or os.cpu_count() or 1
    if processes > 1 and os.path.getsize(path) >= parallel_from:
        from audit import verify_parallel

        found = verify_parallel.verify(path, pinned_keys, trust, processes)
        if found is not None:
            return found
    with open(path, encoding="utf-8") as handle:
        return verify_lines(handle, pinned_keys, trust)


class ExportReader:
    """Takes an export's records one by one (header, keys, checkpoints, events) and gives the verdict."""

    def __init__(self, pinned_keys: dict[str, bytes] | None = None, trust: Trust | None = None) -> None:
        self.pinned_keys = pinned_keys
        self.trust = trust or Trust()
        self.header: dict | None = None
        self.keys: dict[str, bytes] = {}
        self.retired: dict[str, int] = {}
        self.checkpoints: list[dict] = []
        self._checker: LogChecker | None = None
        self.proofs: list[tuple[int, bytes, dict]] = []

    @property
    def checker(self) -> LogChecker:
        """The log's checker, made from the records before the first event (the header, keys, checkpoints)."""
        if self._checker is None:
            used = self.trust
            if self.pinned_keys is None and self.retired:
                used = Trust(**{**used.__dict__, "retired": {**self.retired, **used.retired}})
            keys = self.pinned_keys if self.pinned_keys is not None else self.keys
            self._checker = LogChecker(self.header["tenant"]["id"], keys, self.checkpoints, used)
        return self._checker

    def take(self, number: int, record: dict) -> list[Problem] | None:
        """Take the record of line ``number``; a list of problems when the export cannot be verified at all."""
        kind = record.get("record")
        if number == 1:
            if kind != "header" or record.get("format") != FORMAT or record.get("version") != VERSION:
                return [Problem.of("malformed", None, gettext_noop("not a version 2 portcullis audit export"))]
            tenant = record.get("tenant")
            if not isinstance(tenant, dict) or type(tenant.get("id")) is not int:
                return [Problem.of("malformed", None, gettext_noop("the header names no tenant"))]
            if record.get("origin") != log_origin(tenant["id"]):
                return [Problem.of("malformed", None, gettext_noop("the header's origin is not its tenant's log"))]
            self.header = record
        elif kind == "key":
            self.keys[record["key_id"]] = base64.b64decode(record["public_key"])
            if record.get("retired_at"):
                self.retired[record["key_id"]] = unix_time(record["retired_at"]) or 0
        elif kind == "checkpoint":
            self.checkpoints.append(record)
        elif kind == "event":
            personal = {f: (v["salt"], v["value"]) for f, v in record.get("personal", {}).items()}
            data = base64.b64decode(record["canonical"])
            self.checker.feed(record["seq"], data, record["leaf_hash"], record["chain_hash"], personal)
            if "proof" in record:
                self.proofs.append((record["seq"], hashlib.sha256(b"\x00" + data).digest(), record["proof"]))
        # Other records are ignored (a later minor version may add some); unknown members too.
        return None

    def events_announced(self) -> Problem | None:
        """The problem of a header that announces another number of events than the export holds."""
        header, checker = self.header, self.checker
        if header.get("events") is not None and header["events"] != checker.events:
            return Problem.of(
                "truncated", checker.events, gettext_noop("the header announces {count} events"), count=header["events"]
            )
        return None

    def finish(self) -> tuple[dict, list[Problem]]:
        """(header, problems) once every record was taken."""
        if self.header is None:
            return {}, [Problem.of("malformed", None, gettext_noop("empty export"))]
        checker = self.checker
        problems = checker.finish()
        announced = self.events_announced()
        if announced is not None:
            problems.append(announced)
        latest = checker.latest_checkpoint
        expected = _expected_paths(self.proofs, latest) if latest is not None and not problems else None
        for seq, leaf, proof in self.proofs:
            if expected is not None and proof["tree_size"] == latest["tree_size"] and proof["path"] == expected(seq):
                continue  # the same path as the intact tree's: it leads to the root (checked once, below)
            path = [bytes.fromhex(h) for h in proof["path"]]
            if (
                latest is None
                or proof["tree_size"] != latest["tree_size"]
                or not verify_inclusion(seq, proof["tree_size"], leaf, path, latest["root"])
            ):
                problems.append(
                    Problem.of(
                        "modified", seq, gettext_noop("its inclusion proof does not lead to the latest checkpoint")
                    )
                )
        return self.header, problems


def verify_lines(lines, pinned_keys: dict[str, bytes] | None = None, trust: Trust | None = None):
    """(header, problems) of an export given as an iterable of JSON lines.

    ``pinned_keys`` are the log keys to trust (without them, the export's own keys: integrity only).
    Retirement times come from ``trust.retired`` when pinned, else from the export's key records.
    """
    reader = ExportReader(pinned_keys, trust)
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        fatal = reader.take(number, json.loads(line))
        if fatal is not None:
            return {}, fatal
    return reader.finish()


def _expected_paths(proofs: list, latest: dict):
    """When the events with proofs are exactly positions 0..N-1 of an intact log whose tree has the latest
    checkpoint's root, a function giving the hex audit path of each position (a list lookup per level instead
    of a hash per level, RFC 9162 §2.1.3.1 over the tree's levels); else None (each proof is then hashed)."""
    size = latest["tree_size"]
    under = [(seq, leaf) for seq, leaf, _ in proofs if seq < size]
    if size == 0 or len(under) != size or any(seq != n for n, (seq, _) in enumerate(under)):
        return None
    levels = Tree([leaf for _, leaf in under]).build()._levels
    if levels[-1][0] != latest["root"]:
        return None
    hex_levels = [[node.hex() for node in level] for level in levels[:-1]]

    def path(index: int) -> list[str]:
        found = []
        for level in hex_levels:
            sibling = index ^ 1
            if sibling < len(level):
                found.append(level[sibling])
            index >>= 1
        return found

    return path


def verify_receipt(receipt: dict, keys: dict[str, bytes], trust: Trust | None = None) -> list[Problem]:
    """Problems of a customer's receipt (docs/audit-format.md §13): its checkpoint must be signed by a trusted
    key and cosigned by the quorum of trusted witnesses; each event must be of its log and position, open the
    commitments of the personal values it carries, and be included in that checkpoint's tree."""
    trust = trust or Trust()
    if receipt.get("format") != "portcullis-audit-receipt" or receipt.get("version") != 1:
        return [Problem.of("malformed", None, gettext_noop("not a version 1 portcullis audit receipt"))]
    tenant = receipt["tenant"]
    if receipt.get("origin") != log_origin(tenant):
        return [Problem.of("malformed", None, gettext_noop("the header's origin is not its tenant's log"))]
    held = receipt["checkpoint"]
    checker = LogChecker(tenant, keys, [], trust)
    try:
        text, signatures = signednote.split_note(held["note"])
        note = signednote.parse_checkpoint(text)
    except signednote.NoteError:
        return [Problem.of("bad_signature", None, gettext_noop("checkpoint {index}: its note is malformed"), index=0)]
    index = held.get("index", 0)
    if note.origin != checker.origin or checker._log_signer(text, signatures)[0] is None:
        checker._add(
            "bad_signature", None, gettext_noop("checkpoint {index}: not signed by a trusted key"), index=index
        )
    count = len(checker._cosignatures(text, signatures, index))
    if trust.witnesses and count < trust.quorum:
        checker._add(
            "unwitnessed",
            None,
            gettext_noop("checkpoint {index}: {count} of the {quorum} witness cosignatures it needs"),
            index=index,
            count=count,
            quorum=trust.quorum,
        )
    for event in receipt.get("events", []):
        seq = event["seq"]
        data = base64.b64decode(event["canonical"], validate=True)
        payload = json.loads(data)
        leaf = hashlib.sha256(b"\x00" + data).digest()
        if payload.get("tenant") != tenant or payload.get("seq") != seq:
            checker._add(
                "inserted",
                seq,
                gettext_noop("an event of another log (tenant {tenant}) was inserted"),
                tenant=payload.get("tenant"),
            )
        path = [bytes.fromhex(h) for h in event.get("proof", [])]
        if not verify_inclusion(seq, note.size, leaf, path, note.root):
            checker._add("modified", seq, gettext_noop("its inclusion proof does not lead to the latest checkpoint"))
        for name, entry in event.get("personal", {}).items():
            opened = hashlib.sha256(bytes.fromhex(entry["salt"]) + entry["value"].encode("utf-8")).hexdigest()
            if _commitment_at(payload, name) != opened:
                checker._add(
                    "modified", seq, gettext_noop("personal value {field} does not match its commitment"), field=name
                )
    return checker.problems


def load_public_keys(path: str) -> tuple[dict[str, bytes], dict[str, int]]:
    """({key id: raw public key}, {key id: retirement time}) from a JSON file as published at /audit/keys.json.
    Key ids are recomputed from the keys; an entry whose id does not match is refused."""
    with open(path, encoding="utf-8") as handle:
        data = json.load(handle)
    entries = data.get("keys", data) if isinstance(data, dict) else data
    keys, retired = {}, {}
    for entry in entries:
        raw = base64.b64decode(entry["public_key"], validate=True)
        if len(raw) != 32 or hashlib.sha256(raw).hexdigest()[:16] != entry["key_id"]:
            raise ValueError(f"key {entry.get('key_id')!r}: its id is not SHA-256(public key)[:8]")
        keys[entry["key_id"]] = raw
        if entry.get("retired_at"):
            when = unix_time(entry["retired_at"])
            if when is None:
                raise ValueError(f"key {entry['key_id']}: retired_at is not a UTC time")
            retired[entry["key_id"]] = when
    return keys, retired


def load_trusted_checkpoints(path: str) -> list[str]:
    """Signed notes kept earlier: a note file (``.txt``: one note, or several separated by a line ``---``)
    or an earlier export (``.jsonl``: its checkpoints)."""
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    if text.lstrip().startswith("{"):
        notes = []
        for line in text.splitlines():
            if line.strip():
                record = json.loads(line)
                if record.get("record") == "checkpoint":
                    notes.append(record["note"])
        return notes
    return [part.lstrip("\n") for part in text.split("\n---\n") if part.strip()]


def fetch_witness_checkpoint(url: str, origin: str, timeout: float = 10) -> str | None:
    """A witness's latest cosigned checkpoint for ``origin`` (GET <url>/<hex sha256(origin)>/checkpoint)."""
    address = f"{url.rstrip('/')}/{hashlib.sha256(origin.encode()).hexdigest()}/checkpoint"
    try:
        with urllib.request.urlopen(address, timeout=timeout) as response:  # noqa: S310 (an auditor's URL)
            return response.read(65536).decode("utf-8")
    except OSError as exc:
        if getattr(exc, "code", None) == 404:
            return None
        raise


def _safe(text: str) -> str:
    return "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in text)


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(prog="python -m audit.verify_export", description=__doc__.split("\n")[0])
    parser.add_argument("file", help="an export made by `manage.py audit_export` or the viewer's download")
    parser.add_argument("--receipt", action="store_true", help="the file is a customer's receipt (My access)")
    parser.add_argument("--public-keys", help="JSON file of trusted public keys (as published at /audit/keys.json)")
    parser.add_argument("--witness", action="append", default=[], help="a trusted witness's verifier key")
    parser.add_argument("--quorum", type=int, help="cosignatures each checkpoint needs (default 1 with --witness)")
    parser.add_argument(
        "--trusted-checkpoint", action="append", default=[], help="a checkpoint kept earlier: note file or export"
    )
    parser.add_argument("--witness-url", action="append", default=[], help="fetch a witness's latest checkpoint")
    parser.add_argument("--interval-minutes", type=int, help="checkpoint interval: older uncovered events fail")
    parser.add_argument("--tsa-roots", help="PEM file of trusted time-stamping authority roots (RFC 3161)")
    parser.add_argument("--now", help="the time to judge staleness at (default: now), YYYY-MM-DDTHH:MM:SSZ")
    args = parser.parse_args(argv)
    try:
        pinned, retired = load_public_keys(args.public_keys) if args.public_keys else (None, {})
        witnesses = [signednote.parse_vkey(v) for v in args.witness]
        notes = [note for path in args.trusted_checkpoint for note in load_trusted_checkpoints(path)]
        if args.receipt:
            with open(args.file, encoding="utf-8") as handle:
                receipt = json.load(handle)
            quorum = args.quorum if args.quorum is not None else min(1, len(witnesses))
            if pinned is None:
                raise ValueError("a receipt is checked against pinned public keys (--public-keys)")
            problems = verify_receipt(receipt, pinned, Trust(witnesses=witnesses, quorum=quorum, retired=retired))
            for problem in problems:
                sys.stdout.write(f"receipt: {_safe(str(problem))}\n")
            if problems:
                sys.stdout.write(f"FAILED: {len(problems)} problem(s)\n")
                return 1
            size = receipt["checkpoint"]["tree_size"]
            sys.stdout.write(f"receipt: OK ({len(receipt['events'])} events in the checkpoint of {size})\n")
            return 0
        with open(args.file, encoding="utf-8") as handle:
            first = json.loads(handle.readline() or "{}")
        origin = first.get("origin", "")
        for url in args.witness_url:
            note = fetch_witness_checkpoint(url, origin)
            if note:
                notes.append(note)
        trust = Trust(
            witnesses=witnesses,
            quorum=args.quorum if args.quorum is not None else min(1, len(witnesses)),
            checkpoints=notes,
            retired=retired,
            now=(unix_time(args.now) if args.now else time.time()) if args.interval_minutes else None,
            interval=args.interval_minutes * 60 if args.interval_minutes else None,
            tsa_roots=split_pem(open(args.tsa_roots, "rb").read()) if args.tsa_roots else [],  # noqa: SIM115
        )
        header, problems = verify_file(args.file, pinned, trust)
    except (OSError, ValueError, KeyError, TypeError, signednote.NoteError) as exc:
        sys.stderr.write(f"cannot read the input: {_safe(str(exc))}\n")
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
