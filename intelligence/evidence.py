"""What access reviews show of the stored proposals: the confidence and the reason of a removal proposed
for the item's access (``reviews.evidence.collect`` calls ``annotate``; one query per campaign)."""

from __future__ import annotations

from collections import defaultdict

from intelligence.models import ProposalKind, ProposalStatus, RightsizingProposal
from permissions.models import Module
from permissions.vocabulary import BITS


def annotate(candidates) -> None:
    """Add ``evidence["intelligence"]`` to grant candidates with an open removal proposal on one of their
    module's actions (the most confident one): kind, confidence, module, action and the reason's numbers
    (two queries, whatever the number of candidates)."""
    open_removals = RightsizingProposal.objects.filter(status=ProposalStatus.OPEN, kind=ProposalKind.REMOVE)
    by_user: dict[tuple, list] = defaultdict(list)
    for p in open_removals.values("id", "user_id", "module_id", "action", "confidence", "reason"):
        by_user[(p["user_id"], p["module_id"])].append(p)
    if not by_user:
        return
    modules = dict(Module.objects.values_list("key", "id"))
    for c in candidates:
        if c.kind != "grant" or c.snapshot.get("resource"):
            continue
        mask = sum(BITS.get(a, 0) for a in c.snapshot.get("actions", ()))
        module_id = modules.get(c.snapshot.get("module"))
        found = [p for p in by_user.get((c.user_id, module_id), ()) if BITS.get(p["action"], 0) & mask]
        if not found:
            continue
        best = max(found, key=lambda p: p["confidence"])
        c.evidence["intelligence"] = {
            "proposal": best["id"],
            "kind": ProposalKind.REMOVE.value,
            "module_id": best["module_id"],
            "action": best["action"],
            "confidence": round(best["confidence"], 2),
            "reason": best["reason"],
        }
