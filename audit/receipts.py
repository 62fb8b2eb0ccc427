"""A customer's receipt: the events about one user's access, each with its RFC 9162 inclusion proof in the
latest checkpoint that reached the tenant's witness quorum, and that checkpoint's cosigned note.

Checked without the portal by ``python -m audit.verify_export --receipt FILE --public-keys keys.json
--witness VKEY`` (docs/audit-format.md §13). The receipt carries the clear values of the user's own
personal data only (their commitments open); other people's stay commitments.
"""

from __future__ import annotations

import base64
import json

from django.db.models import Q
from django.utils import timezone

from accounts.scoping import tenant_scope
from audit import merkle, witnessing
from audit.canonical import format_time
from audit.verify_export import log_origin

RECEIPT_FORMAT = "portcullis-audit-receipt"


def build(tenant, user) -> dict | None:
    """The receipt of ``user``'s events under the latest witnessed checkpoint (None when there is none)."""
    from audit.models import AuditEvent, PersonalValue

    checkpoint = witnessing.latest_witnessed(tenant)
    if checkpoint is None:
        return None
    size = checkpoint.tree_size
    with tenant_scope(tenant):
        mine = set(PersonalValue.objects.filter(subject_id=user.pk, seq__lt=size).values_list("seq", flat=True))
        about = Q(seq__in=mine) | Q(target_type="accounts.user", target_id=str(user.pk)) | Q(actor_id=user.pk)
        events = list(AuditEvent.objects.filter(about, seq__lt=size).order_by("seq").values_list("seq", "canonical"))
        personal: dict[int, dict] = {}
        for seq, values in PersonalValue.objects.filter(subject_id=user.pk, seq__lt=size).values_list("seq", "values"):
            personal.setdefault(seq, {}).update(json.loads(values))
        leaves = [
            bytes.fromhex(h) for h in AuditEvent.objects.order_by("seq").values_list("leaf_hash", flat=True)[:size]
        ]
    tree = merkle.Tree(leaves).build()
    records = []
    for seq, canonical in events:
        record = {
            "seq": seq,
            "canonical": base64.b64encode(canonical.encode("utf-8")).decode(),
            "proof": [h.hex() for h in tree.inclusion_proof(seq, size)],
        }
        if seq in personal:
            record["personal"] = personal[seq]
        records.append(record)
    return {
        "format": RECEIPT_FORMAT,
        "version": 1,
        "tenant": tenant.pk,
        "origin": log_origin(tenant.pk),
        "subject": user.pk,
        "issued_at": format_time(timezone.now()),
        "checkpoint": {"index": checkpoint.index, "tree_size": size, "note": witnessing.cosigned_note(checkpoint)},
        "events": records,
    }
