"""Reviewers' and administrators' answers to proposals. A pattern is (kind, module, action): each
disagreement lowers the confidence of that pattern's future proposals, each agreement wins some back
(``rightsizing.feedback_factor``)."""

from __future__ import annotations

from collections import Counter

from django.db import transaction
from django.utils import timezone

import audit
from audit.events import EventType
from intelligence.analysis.rightsizing import feedback_factor
from intelligence.models import Feedback, ProposalKind, ProposalStatus, RightsizingProposal
from permissions.services.checks import require
from permissions.services.errors import AccessRefused, ErrorCode
from permissions.vocabulary import Action, SystemModule


def pattern_counts() -> dict[tuple, tuple[int, int]]:
    """(kind, module id, action) → (agreements, disagreements), inside the tenant's scope."""
    counts: Counter = Counter()
    for row in Feedback.objects.values("kind", "module_id", "action", "agreed"):
        counts[(row["kind"], row["module_id"], row["action"], row["agreed"])] += 1
    out: dict[tuple, tuple[int, int]] = {}
    for (kind, module_id, action, agreed), n in counts.items():
        a, d = out.get((kind, module_id, action), (0, 0))
        out[(kind, module_id, action)] = (a + n, d) if agreed else (a, d + n)
    return out


def pattern_factors() -> dict[tuple, float]:
    """(kind, module id, action) → the factor reviewers' answers put on that pattern's confidence."""
    return {key: feedback_factor(a, d) for key, (a, d) in pattern_counts().items()}


def record(
    *, tenant, kind: str, module_id: int, action: str, agreed: bool, source: str, actor=None, actor_id=None
) -> Feedback:
    """Record (or correct) one answer; inside the caller's transaction. One row per source."""
    actor_id = actor.pk if actor is not None else actor_id
    row, _ = Feedback.objects.update_or_create(
        tenant=tenant,
        source=source[:20],
        defaults={"kind": kind, "module_id": module_id, "action": action, "agreed": agreed, "actor_id": actor_id},
    )
    return row


@transaction.atomic
def dismiss(proposal: RightsizingProposal, *, actor, reason: str = "") -> RightsizingProposal:
    """An administrator disagrees with a proposal: it is dismissed, and its pattern loses confidence."""
    require(actor, Action.CHANGE, SystemModule.SETTINGS)
    proposal = RightsizingProposal.objects.select_for_update().get(pk=proposal.pk)
    if proposal.status != ProposalStatus.OPEN:
        raise AccessRefused(ErrorCode.INVALID, "this proposal is no longer open")
    proposal.status, proposal.updated_at = ProposalStatus.DISMISSED, timezone.now()
    proposal.save(update_fields=["status", "updated_at"])
    record(
        tenant=actor.tenant, kind=proposal.kind, module_id=proposal.module_id, action=proposal.action,
        agreed=False, source=f"console:{proposal.pk}", actor=actor,
    )  # fmt: skip
    audit.record(
        EventType.INTELLIGENCE_FEEDBACK,
        tenant=actor.tenant,
        actor=actor,
        target=proposal,
        after={"agreed": False, "kind": proposal.kind, "action": proposal.action, "module": proposal.module.key},
        reason=reason,
    )
    return proposal


def review_answer(evidence: dict, decision: str) -> bool | None:
    """Whether a review decision agrees with the proposal shown with the item (None: no proposal shown, or
    no verdict yet)."""
    shown = (evidence or {}).get("intelligence")
    if not shown or shown.get("kind") != ProposalKind.REMOVE or decision == "pending":
        return None
    return decision in ("revoke", "reduce")
