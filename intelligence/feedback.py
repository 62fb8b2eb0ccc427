"""The audit listener that turns a review decision into feedback on the proposal shown with its item.

It runs inside the decision's transaction (``audit.recording.on_record``), so the feedback commits or
rolls back with the decision, and is covered by the decision's own audit event.
"""

from __future__ import annotations

from accounts.scoping import tenant_scope
from audit.events import EventType


def on_review_decided(recorded) -> None:
    """Record a reviewer's agreement or disagreement with the right-sizing proposal of a decided item."""
    if recorded.event.event_type != EventType.REVIEW_DECIDED.value or recorded.target is None:
        return
    from intelligence.services.feedback import record, review_answer
    from reviews.models import ReviewItem

    with tenant_scope(recorded.tenant):
        item = ReviewItem.objects.filter(pk=recorded.target.id).first()
        if item is None:
            return
        agreed = review_answer(item.evidence, (recorded.after or {}).get("decision", ""))
        shown = (item.evidence or {}).get("intelligence") or {}
        if agreed is None or "module_id" not in shown:
            return
        record(
            tenant=recorded.tenant, kind=shown["kind"], module_id=shown["module_id"], action=shown["action"],
            agreed=agreed, source=f"review:{item.pk}", actor_id=recorded.actor_id,
        )  # fmt: skip
