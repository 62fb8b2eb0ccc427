"""The standalone verifier's parallel pass over a large export (``verify_export.verify_file`` calls it).

Standard library only, like the verifier. Checking an event is mostly reading it: parsing its JSON line,
decoding and parsing its canonical bytes, hashing them (about nine tenths of the sequential verifier's time
with an inclusion proof per event). Those steps depend on the event alone, so processes share them:

1. The main process reads the records before the first event (header, keys, checkpoints) into an
   ``ExportReader`` exactly as the sequential verifier does, and splits the rest of the file into chunks of
   whole lines.
2. Each worker checks its chunk as ``LogChecker.feed`` would find a clean log: every line an event, positions
   consecutive and equal to the positions the canonical bytes claim, of this tenant, leaf hash and chain
   hash matching (the chain from the chunk's second event; the first link is checked by the main process
   with the previous chunk's last chain hash), personal values opening their commitments, and a proof, if
   any, for the latest checkpoint. It returns the leaf hashes, and a digest of its events' proof paths.
3. The main process joins the chunks (each first link, positions 0..n-1 with no gap), builds the Merkle tree
   of the leaves, and compares the roots the checkpoints name and the paths of the intact tree with the
   proofs (the expected paths' digests are computed by the workers, which inherit the tree).

Anything a worker or the main process finds unusual (a problem, an unknown record, a line the sequential
reading would parse differently, a proof unlike the intact tree's path) makes ``verify`` return None: the
sequential verifier then reads the file and names the problems. So this pass only ever accepts what the
sequential one accepts, with the same answer, just sooner; ``tests/audit/test_verify_parallel.py`` compares
both on tampered exports.
"""

from __future__ import annotations

import base64
import json
import multiprocessing
import os
from hashlib import sha256

from audit.merkle import Tree
from audit.verify_export import ExportReader, Trust, _commitment_at, unix_time

CHUNKS_PER_PROCESS = 4
_ZERO = bytes(32)
_raw_decode = json.JSONDecoder().raw_decode
_HEX_LEVELS: list[list[str]] = []  # the intact tree's levels (hex) while workers compute expected paths


class _Unusual(Exception):
    """The chunk is not a clean run of events: leave it to the sequential verifier."""


def _loads(text: str):
    """One JSON value spanning all of ``text`` (json.loads would accept surrounding blanks: not here)."""
    value, end = _raw_decode(text)
    if end != len(text):
        raise _Unusual
    return value


def _scan(task: tuple) -> tuple | None:
    """Check one chunk of event lines (see the module's docstring); None when anything is unusual.

    Returns (first position, last position, leaf hashes joined, the first event's chain hash (hex), the
    last event's chain hash, the time of the event at position ``covered`` or None, proofs seen, proof digest).
    """
    path, start, end, tenant, covered, proof_size = task
    with open(path, "rb") as handle:
        handle.seek(start)
        blob = handle.read(end - start)
    if b"\r" in blob:  # text mode would split lines there: the sequential reading decides
        return None
    leaves = bytearray()
    proofs = sha256()
    proved = 0
    first = expect = first_chain = chain = uncovered = None
    try:
        for raw in blob.split(b"\n"):
            if not raw.strip():
                continue
            record = _loads(raw.decode("utf-8"))
            if record.get("record") != "event":
                return None
            seq = record["seq"]
            if type(seq) is not int or (expect is not None and seq != expect):
                return None
            if first is None:
                first = seq
            expect = seq + 1
            data = base64.b64decode(record["canonical"])
            hashed = sha256(b"\x00" + data)
            if hashed.hexdigest() != record["leaf_hash"]:
                return None
            leaf = hashed.digest()
            payload = _loads(data.decode("utf-8"))
            if type(payload) is not dict:
                return None
            claim, owner = payload["seq"], payload["tenant"]
            if type(claim) is not int or claim != seq or type(owner) is not int or owner != tenant:
                return None
            chain_hex = record["chain_hash"]
            if chain is None:
                first_chain, chain = chain_hex, bytes.fromhex(chain_hex)
            else:
                link = sha256(chain + leaf)
                if link.hexdigest() != chain_hex:
                    return None
                chain = link.digest()
            for name, value in record.get("personal", {}).items():
                opened = sha256(bytes.fromhex(value["salt"]) + value["value"].encode("utf-8")).hexdigest()
                if _commitment_at(payload, name) != opened:
                    return None
            if seq == covered:
                uncovered = unix_time(payload.get("time"))
            if "proof" in record:
                proof = record["proof"]
                steps = proof["path"]
                if proof["tree_size"] != proof_size or seq >= proof_size or type(steps) is not list:
                    return None
                proofs.update(b"%d:%s\n" % (len(steps), "\n".join(steps).encode("utf-8")))
                proved += 1
            leaves += leaf
    except (_Unusual, ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError):
        return None
    if first is None:
        return (None, None, b"", None, None, None, 0, proofs.digest())
    return (first, expect - 1, bytes(leaves), first_chain, chain, uncovered, proved, proofs.digest())


def _expected_digest(span: tuple[int, int]) -> bytes:
    """The digest ``_scan`` makes of positions first..last when each carries the intact tree's path."""
    first, last = span
    levels = _HEX_LEVELS
    digest = sha256()
    for index in range(first, last + 1):
        steps = []
        at = index
        for level in levels:
            sibling = at ^ 1
            if sibling < len(level):
                steps.append(level[sibling])
            at >>= 1
        digest.update(b"%d:%s\n" % (len(steps), "\n".join(steps).encode("ascii")))
    return digest.digest()


def _chunks(path: str, start: int, size: int, count: int) -> list[tuple[int, int]]:
    """``count`` byte ranges of whole lines covering start..size."""
    bounds = [start]
    with open(path, "rb") as handle:
        for n in range(1, count):
            at = max(start + (size - start) * n // count, bounds[-1])
            handle.seek(at)
            handle.readline()  # to the end of the line the cut falls in
            bounds.append(min(handle.tell(), size))
    bounds.append(size)
    return [(a, b) for a, b in zip(bounds, bounds[1:], strict=False) if b > a]


def _context():
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else None)


def verify(path: str, pinned_keys: dict[str, bytes] | None, trust: Trust | None, processes: int):
    """(header, problems) as ``verify_export.verify_lines`` gives them, or None to read sequentially."""
    reader = ExportReader(pinned_keys, trust)
    with open(path, "rb") as handle:
        number = 0
        while True:
            offset = handle.tell()
            raw = handle.readline()
            if not raw:
                return None  # no event: nothing to share out
            number += 1
            try:
                line = raw.decode("utf-8")
                if b"\r" in raw or not line.strip():
                    return None
                record = _loads(line.rstrip("\n"))
                if type(record) is not dict:
                    return None
                if record.get("record") == "event":
                    if number == 1:
                        return None
                    break
                if reader.take(number, record) is not None:
                    return None
            except (_Unusual, ValueError, KeyError, TypeError, AttributeError, RecursionError):
                return None
        size = handle.seek(0, os.SEEK_END)
    if reader.header is None:
        return None
    checker = reader.checker
    if checker.problems:
        return None
    latest = checker.latest_checkpoint
    proof_size = latest["tree_size"] if latest is not None else -1
    spans = _chunks(path, offset, size, processes * CHUNKS_PER_PROCESS)
    tasks = [(path, a, b, checker.tenant_id, checker.covered, proof_size) for a, b in spans]
    context = _context()
    with context.Pool(processes) as pool:
        results = pool.map(_scan, tasks, chunksize=1)
    leaves: list[bytes] = []
    previous, expected, proved, uncovered = _ZERO, 0, 0, None
    spans_of_events: list[tuple[int, int]] = []
    digests: list[bytes] = []
    for result in results:
        if result is None:
            return None
        first, last, joined, first_chain, last_chain, time_of, seen, digest = result
        if first is None:
            continue
        if first != expected or sha256(previous + joined[:32]).hexdigest() != first_chain:
            return None
        leaves.extend(joined[n : n + 32] for n in range(0, len(joined), 32))
        previous, expected, proved = last_chain, last + 1, proved + seen
        uncovered = time_of if time_of is not None else uncovered
        if seen:  # proofs are only for positions below the latest checkpoint's size (checked by _scan)
            below = min(last, proof_size - 1)
            if seen != below - first + 1:
                return None  # some of those positions lack a proof: read sequentially
            spans_of_events.append((first, below))
            digests.append(digest)
    count = expected
    tree = Tree(leaves).build()
    roots = {size: tree.root(size) for size in checker.wanted_sizes() if 0 < size <= count}
    checker.accept_clean_run(count, roots, uncovered)
    problems = checker.finish()
    if reader.events_announced() is not None:
        return None
    if proved:
        if proved != proof_size or problems or tree.root(proof_size) != latest["root"]:
            return None
        if not _proofs_match(tree, proof_size, spans_of_events, digests, processes, context):
            return None
    return reader.header, problems


def _proofs_match(tree: Tree, size: int, spans, digests, processes: int, context) -> bool:
    """Whether every proof is the intact tree's path of its position (a digest per chunk, in parallel)."""
    global _HEX_LEVELS
    small = Tree(tree.leaves[:size]).build() if size != len(tree.leaves) else tree
    _HEX_LEVELS = [[node.hex() for node in level] for level in small._levels[:-1]]
    try:
        if context.get_start_method() == "fork":
            with context.Pool(processes) as pool:  # the workers inherit the levels
                expected = pool.map(_expected_digest, spans, chunksize=1)
        else:
            expected = [_expected_digest(span) for span in spans]
    finally:
        _HEX_LEVELS = []
    return expected == digests
