"""Property tests of the verification algorithm alone (no database): an intact log always verifies,
and any single tampering of a checkpointed log is always reported (LOG-3, LOG-4)."""

import base64
import hashlib
import json

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import given, settings
from hypothesis import strategies as st

from audit import merkle, signednote
from audit.verify_export import LogChecker, log_origin

KEY = Ed25519PrivateKey.generate()
PUBLIC = KEY.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
KEYS = {"k1": PUBLIC}


def make_log(size: int, tenant: int = 1):
    """Rows (seq, bytes, leaf hex, chain hex) of a genuine log, and a signed checkpoint over all of it."""
    rows, chain = [], bytes(32)
    for seq in range(size):
        data = json.dumps({"seq": seq, "tenant": tenant, "type": "x", "n": seq * 7}, sort_keys=True).encode()
        leaf = merkle.leaf_hash(data)
        chain = hashlib.sha256(chain + leaf).digest()
        rows.append((seq, data, leaf.hex(), chain.hex()))
    root = merkle.root([bytes.fromhex(r[2]) for r in rows])
    text = signednote.Checkpoint(log_origin(tenant), size, root).text
    checkpoint = {
        "index": 0,
        "tree_size": size,
        "root_hash": root.hex(),
        "time": "2026-01-01T00:00:00.000000Z",
        "key_id": "k1",
        "note": signednote.sign_note(text, log_origin(tenant), KEY),
        "consistency": [],
    }
    return rows, checkpoint


def check(rows, checkpoint):
    checker = LogChecker(1, KEYS, [checkpoint])
    for row in rows:
        checker.feed(*row)
    return checker.finish()


@settings(max_examples=60, deadline=None)
@given(size=st.integers(min_value=1, max_value=40))
def test_an_intact_log_always_verifies(size):
    rows, checkpoint = make_log(size)
    assert check(rows, checkpoint) == []


def _tamper(rows, kind, i, j):
    rows = list(rows)
    n = len(rows)
    i, j = i % n, j % n
    if kind == "delete":
        del rows[i]
    elif kind == "swap" and i != j:
        a, b = rows[i], rows[j]
        rows[i], rows[j] = (a[0], *b[1:]), (b[0], *a[1:])  # contents exchanged, stored positions kept
    elif kind == "duplicate":
        rows.insert(i, rows[i])
    elif kind == "edit":
        seq, data, leaf, chain = rows[i]
        rows[i] = (seq, data.replace(b'"type": "x"', b'"type": "y"'), leaf, chain)
    elif kind == "rehash":
        seq, data, _leaf, _chain = rows[i]
        data = data.replace(b'"type": "x"', b'"type": "z"')
        previous = bytes.fromhex(rows[i - 1][3]) if i else bytes(32)
        leaf = merkle.leaf_hash(data)
        rows[i] = (seq, data, leaf.hex(), hashlib.sha256(previous + leaf).hexdigest())
        for k in range(i + 1, n):  # every later chain hash recomputed too: only the checkpoint can tell
            s, d, lf, _c = rows[k]
            previous = bytes.fromhex(rows[k - 1][3])
            rows[k] = (s, d, lf, hashlib.sha256(previous + bytes.fromhex(lf)).hexdigest())
    elif kind == "truncate":
        rows = rows[:i]
    elif kind == "foreign":
        other, _ = make_log(n, tenant=2)
        rows[i] = other[i]
    else:
        return None
    return rows


@settings(max_examples=300, deadline=None)
@given(
    size=st.integers(min_value=2, max_value=30),
    kind=st.sampled_from(["delete", "swap", "duplicate", "edit", "rehash", "truncate", "foreign"]),
    i=st.integers(min_value=0, max_value=1000),
    j=st.integers(min_value=0, max_value=1000),
)
def test_every_single_tampering_of_a_checkpointed_log_is_reported(size, kind, i, j):
    rows, checkpoint = make_log(size)
    tampered = _tamper(rows, kind, i, j)
    if tampered is None or tampered == rows:
        return
    assert check(tampered, checkpoint), (kind, i % size, j % size)


@settings(max_examples=100, deadline=None)
@given(size=st.integers(min_value=1, max_value=30), flip=st.integers(min_value=0, max_value=10_000))
def test_a_changed_signature_or_note_is_a_bad_signature(size, flip):
    rows, checkpoint = make_log(size)
    text, line = checkpoint["note"].split("\n\n")
    dash, name, encoded = line.strip().split(" ")
    signature = bytearray(base64.b64decode(encoded))
    signature[flip % len(signature)] ^= 1 << (flip % 8)  # the key hash (4 bytes) or the signature
    forged_line = f"{dash} {name} {base64.b64encode(bytes(signature)).decode()}\n"
    forged = {**checkpoint, "note": f"{text}\n\n{forged_line}"}
    assert "bad_signature" in {p.kind for p in check(rows, forged)}
    moved = {**checkpoint, "note": checkpoint["note"].replace("tenant/1", "tenant/9")}
    assert "bad_signature" in {p.kind for p in check(rows, moved)}
