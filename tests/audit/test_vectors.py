"""The test vectors of docs/audit-format.md (docs/audit-vectors/): every expected hash, root and proof is
recomputed here with hashlib alone, and every verdict is checked through the standalone verifier with Django
made unimportable (it needs nothing but the standard library and cryptography)."""

import base64
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ROOT = Path(__file__).resolve().parents[2]
VECTORS = ROOT / "docs" / "audit-vectors"
EXPECTED = json.loads((VECTORS / "expected.json").read_text())
NO_DJANGO = (
    "import sys, runpy; sys.modules['django'] = None; sys.argv = ['verify_export', *sys.argv[1:]]; "
    "runpy.run_module('audit.verify_export', run_name='__main__')"
)


def mth(leaves):
    """RFC 9162 Merkle tree hash, written out again here (independent of audit/merkle.py)."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + mth(leaves[:k]) + mth(leaves[k:])).digest()


def records(name):
    return [json.loads(line) for line in (VECTORS / name).read_text().splitlines()]


def test_the_expected_hashes_and_roots_recompute_with_hashlib_alone():
    events = [r for r in records("export.jsonl") if r["record"] == "event"]
    leaves, chain = [], bytes(32)
    for seq, record in enumerate(events):
        data = base64.b64decode(record["canonical"])
        assert data.decode() == EXPECTED["canonical"][seq]
        leaf = hashlib.sha256(b"\x00" + data).digest()
        chain = hashlib.sha256(chain + leaf).digest()
        assert leaf.hex() == EXPECTED["leaf_hashes"][seq] == record["leaf_hash"]
        assert chain.hex() == EXPECTED["chain_hashes"][seq] == record["chain_hash"]
        leaves.append(leaf)
    for size, root in EXPECTED["roots"].items():
        assert mth(leaves[: int(size)]).hex() == root
    # The consistency proof 2 -> 3 of RFC 9162 §2.1.4.1 is the one leaf hash 2 (old size 2 is a full subtree).
    assert EXPECTED["consistency_2_3"] == [leaves[2].hex()]
    assert hashlib.sha256(bytes(range(32)) + b"ana@example.com").hexdigest() == EXPECTED["commitment_after.email"]


def test_the_keys_and_key_hashes_recompute():
    log = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(EXPECTED["log_key_seed"]))
    public = log.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    name = "portcullis/audit/tenant/7"
    key_hash = hashlib.sha256(name.encode() + b"\n\x01" + public).digest()[:4]
    encoded = base64.b64encode(b"\x01" + public).decode()
    assert EXPECTED["log_vkey"] == f"{name}+{key_hash.hex()}+{encoded}"
    [key] = json.loads((VECTORS / "keys.json").read_text())["keys"]
    assert key["key_id"] == hashlib.sha256(public).hexdigest()[:16]
    note = (VECTORS / "trusted-checkpoint.txt").read_text()
    text, _, signatures = note.partition("\n\n")
    log_line, witness_line = signatures.splitlines()
    blob = base64.b64decode(log_line.split(" ")[2])
    assert log_line.startswith(f"\u2014 {name} ") and blob[:4] == key_hash
    Ed25519PublicKey.from_public_bytes(public).verify(blob[4:], (text + "\n").encode())
    witness = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(EXPECTED["witness_key_seed"]))
    w_public = witness.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    w_blob = base64.b64decode(witness_line.split(" ")[2])
    assert w_blob[:4] == hashlib.sha256(b"witness.example/w1\n\x04" + w_public).digest()[:4]
    timestamp = int.from_bytes(w_blob[4:12], "big")
    message = f"cosignature/v1\ntime {timestamp}\n{text}\n".encode()
    Ed25519PublicKey.from_public_bytes(w_public).verify(w_blob[12:], message)


def verify(*args):
    result = subprocess.run(
        [sys.executable, "-c", NO_DJANGO, *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin"},
    )
    return result.returncode, result.stdout


def other_witness():
    private = Ed25519PrivateKey.from_private_bytes(bytes(32))
    public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    name = "witness.example/w2"
    key_hash = hashlib.sha256(name.encode() + b"\n\x04" + public).digest()[:4]
    encoded = base64.b64encode(b"\x04" + public).decode()
    return f"{name}+{key_hash.hex()}+{encoded}"


@pytest.mark.parametrize(
    ("args", "code", "verdict"),
    [
        (["export.jsonl", "--witness", (VECTORS / "witness.vkey").read_text().strip()], 0, "OK (3 events)"),
        (["export-edited.jsonl"], 1, "modified at position 1"),
        (["export-cut.jsonl", "--trusted-checkpoint", VECTORS / "trusted-checkpoint.txt"], 1, "rollback"),
        (["export.jsonl", "--witness", other_witness()], 1, "unwitnessed"),
        (["export-cut.jsonl"], 0, "OK (2 events)"),  # without a root of trust a cut tail passes
    ],
)
def test_the_verdicts_of_the_standalone_verifier(args, code, verdict):
    result = verify(VECTORS / args[0], "--public-keys", VECTORS / "keys.json", *args[1:])
    assert result[0] == code and verdict in result[1], result
