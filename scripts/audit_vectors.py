"""Write the test vectors of docs/audit-format.md into docs/audit-vectors/ (deterministic: fixed keys, times).

``python scripts/audit_vectors.py`` regenerates them; tests/audit/test_vectors.py checks them through the
standalone verifier and recomputes every expected value with hashlib alone.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import rfc8785  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402

from audit import merkle, signednote  # noqa: E402
from audit.verify_export import log_origin  # noqa: E402

OUT = ROOT / "docs" / "audit-vectors"
TENANT = 7
LOG_SEED = hashlib.sha256(b"portcullis audit test vector: log key").digest()
WITNESS_SEED = hashlib.sha256(b"portcullis audit test vector: witness key").digest()
SALT = bytes(range(32))
COSIGNED_AT = 1_767_225_605  # 2026-01-01T00:00:05Z
WITNESS = "witness.example/w1"


def event(seq: int, **changes) -> dict:
    payload = {
        "v": 1,
        "tenant": TENANT,
        "seq": seq,
        "type": "user.changed",
        "time": f"2026-01-01T00:00:0{seq}.000000Z",
        "actor": None,
        "target": {"type": "demo.thing", "id": str(seq), "label": f"thing {seq}"},
        "before": {"level": seq},
        "after": {"level": seq + 1},
        "reason": f"change {seq}",
        "address": "",
        "user_agent": "",
        "request_id": "",
    }
    payload.update(changes)
    return payload


def main() -> None:
    log_key = Ed25519PrivateKey.from_private_bytes(LOG_SEED)
    witness_key = Ed25519PrivateKey.from_private_bytes(WITNESS_SEED)
    origin = log_origin(TENANT)
    email = "ana@example.com"
    commitment = hashlib.sha256(SALT + email.encode()).hexdigest()
    events = [
        event(0),
        event(1, after={"email": {"$pii": commitment}}),
        event(2),
    ]
    canonical = [rfc8785.dumps(e) for e in events]
    leaves, chains, chain = [], [], bytes(32)
    for data in canonical:
        leaf = merkle.leaf_hash(data)
        chain = hashlib.sha256(chain + leaf).digest()
        leaves.append(leaf)
        chains.append(chain)
    tree = merkle.Tree(leaves)
    checkpoints, notes = [], []
    for index, (size, previous) in enumerate(((2, None), (3, 2))):
        text = signednote.Checkpoint(origin, size, tree.root(size)).text
        note = signednote.sign_note(text, origin, log_key) + signednote.cosign_line(
            text, WITNESS, witness_key, COSIGNED_AT + index
        )
        notes.append(note)
        proof = [] if previous is None else [h.hex() for h in tree.consistency_proof(previous, size)]
        checkpoints.append(
            {
                "record": "checkpoint",
                "index": index,
                "tree_size": size,
                "root_hash": tree.root(size).hex(),
                "time": f"2026-01-01T00:00:0{4 + index}.000000Z",
                "key_id": hashlib.sha256(signednote.raw_public(log_key)).hexdigest()[:16],
                "note": note,
                "consistency": proof,
            }
        )
    key_id = checkpoints[0]["key_id"]
    public = base64.b64encode(signednote.raw_public(log_key)).decode()
    key_record = {"record": "key", "key_id": key_id, "algorithm": "ed25519", "public_key": public, "current": True}
    header = {
        "record": "header",
        "format": "portcullis-audit-export",
        "version": 2,
        "tenant": {"id": TENANT, "slug": "vectors", "name": "Test vectors"},
        "origin": origin,
        "exported_at": "2026-01-01T00:01:00.000000Z",
        "events": 3,
        "proofs": True,
    }
    lines = [header, key_record, *checkpoints]
    for seq, data in enumerate(canonical):
        record = {
            "record": "event",
            "seq": seq,
            "canonical": base64.b64encode(data).decode(),
            "leaf_hash": leaves[seq].hex(),
            "chain_hash": chains[seq].hex(),
            "proof": {"tree_size": 3, "path": [h.hex() for h in tree.inclusion_proof(seq, 3)]},
        }
        if seq == 1:
            record["personal"] = {"after.email": {"salt": SALT.hex(), "value": email}}
        lines.append(record)

    def write(name, records):
        (OUT / name).write_text(
            "".join(json.dumps(r, ensure_ascii=True, separators=(",", ":")) + "\n" for r in records)
        )

    OUT.mkdir(parents=True, exist_ok=True)
    write("export.jsonl", lines)
    edited = json.loads(json.dumps(lines))
    edited[5]["canonical"] = base64.b64encode(canonical[1].replace(b"change 1", b"chang3 1")).decode()
    write("export-edited.jsonl", edited)
    cut = [r for r in lines if r.get("index") != 1 and r.get("seq") != 2]
    cut[0] = {**header, "events": 2}
    for record in cut:
        if record.get("record") == "event":
            record["proof"] = {"tree_size": 2, "path": [h.hex() for h in tree.inclusion_proof(record["seq"], 2)]}
    write("export-cut.jsonl", cut)
    (OUT / "keys.json").write_text(json.dumps({"algorithm": "ed25519", "keys": [key_record]}, indent=1) + "\n")
    (OUT / "witness.vkey").write_text(
        signednote.Verifier(WITNESS, signednote.COSIGNATURE_V1, signednote.raw_public(witness_key)).vkey + "\n"
    )
    (OUT / "trusted-checkpoint.txt").write_text(notes[1])
    expected = {
        "log_key_seed": LOG_SEED.hex(),
        "witness_key_seed": WITNESS_SEED.hex(),
        "log_vkey": signednote.Verifier(origin, signednote.ED25519, signednote.raw_public(log_key)).vkey,
        "canonical": [c.decode() for c in canonical],
        "leaf_hashes": [h.hex() for h in leaves],
        "chain_hashes": [h.hex() for h in chains],
        "roots": {str(n): tree.root(n).hex() for n in range(4)},
        "consistency_2_3": [h.hex() for h in tree.consistency_proof(2, 3)],
        "commitment_after.email": commitment,
        "verdicts": {
            "export.jsonl --public-keys keys.json --witness $(cat witness.vkey)": "OK (3 events)",
            "export-edited.jsonl --public-keys keys.json": "modified at position 1",
            "export-cut.jsonl --public-keys keys.json --trusted-checkpoint trusted-checkpoint.txt": "rollback",
            "export.jsonl --public-keys keys.json --witness <another witness key>": "unwitnessed",
        },
    }
    (OUT / "expected.json").write_text(json.dumps(expected, indent=1) + "\n")


if __name__ == "__main__":
    main()
