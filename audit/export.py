"""The auditor's export of one tenant's log: JSON Lines (docs/audit-format.md).

One header line, then the public keys, the checkpoints and every event with its canonical bytes
(base64), stored hashes, clear personal values with their salts (while not erased) and, on request,
an RFC 9162 inclusion proof against the latest checkpoint.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator

from django.db.models import Max
from django.utils import timezone

from accounts.scoping import tenant_scope
from audit import keys, merkle
from audit.canonical import format_time
from audit.verify import checkpoint_dicts
from audit.verify_export import FORMAT, VERSION, log_origin

CHUNK = 5000


def _line(record: dict) -> str:
    return json.dumps(record, ensure_ascii=True, separators=(",", ":")) + "\n"  # LOG-7: controls of user input escaped


def export_lines(tenant, *, proofs: bool = False) -> Iterator[str]:
    """The export of ``tenant``'s log, line by line."""
    from audit.models import AuditEvent, PersonalValue

    with tenant_scope(tenant):
        checkpoints = checkpoint_dicts(tenant)
        # A snapshot: events appended while the export streams belong to the next export.
        last_seq = AuditEvent.objects.aggregate(last=Max("seq"))["last"]
        events = AuditEvent.objects.order_by("seq").filter(seq__lte=-1 if last_seq is None else last_seq)
        count = events.count()
        yield _line(
            {
                "record": "header",
                "format": FORMAT,
                "version": VERSION,
                "tenant": {"id": tenant.pk, "slug": tenant.slug, "name": tenant.name},
                "origin": log_origin(tenant.pk),
                "exported_at": format_time(timezone.now()),
                "events": count,
                "proofs": proofs,
            }
        )
        for key in keys.published_keys():
            yield _line({"record": "key", **key})
        for checkpoint in checkpoints:
            yield _line({"record": "checkpoint", **checkpoint})
        tree, proof_size = None, 0
        if proofs and checkpoints:
            proof_size = checkpoints[-1]["tree_size"]
            leaves = [bytes.fromhex(h) for h in events.values_list("leaf_hash", flat=True)[:proof_size]]
            if len(leaves) == proof_size:
                tree = merkle.Tree(leaves).build()
        last = -1
        while True:
            batch = list(events.filter(seq__gt=last).values_list("seq", "canonical", "leaf_hash", "chain_hash")[:CHUNK])
            if not batch:
                break
            personal: dict[int, dict] = {}
            for seq, values in PersonalValue.objects.filter(seq__gte=batch[0][0], seq__lte=batch[-1][0]).values_list(
                "seq", "values"
            ):
                personal.setdefault(seq, {}).update(json.loads(values))
            for seq, canonical, leaf, chain_hash in batch:
                record = {
                    "record": "event",
                    "seq": seq,
                    "canonical": base64.b64encode(canonical.encode("utf-8")).decode(),
                    "leaf_hash": leaf,
                    "chain_hash": chain_hash,
                }
                if seq in personal:
                    record["personal"] = personal[seq]
                if tree is not None and seq < proof_size:
                    path = tree.inclusion_proof(seq, proof_size)
                    record["proof"] = {"tree_size": proof_size, "path": [h.hex() for h in path]}
                yield _line(record)
            last = batch[-1][0]


def write_export(tenant, stream, *, proofs: bool = False) -> None:
    """Write the export of ``tenant``'s log to a text stream."""
    for line in export_lines(tenant, proofs=proofs):
        stream.write(line)
