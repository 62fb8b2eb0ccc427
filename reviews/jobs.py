"""The review jobs the scheduler runs (portal.jobs): open, remind, escalate, end stages or close, apply.

Each is idempotent."""

from __future__ import annotations

from portal import jobs


def register_jobs() -> None:
    """Register the review jobs, in the order one scheduler run needs them."""
    from reviews.services.applying import apply_closed_campaigns
    from reviews.services.campaigns import close_overdue, open_due_campaigns, send_reminders
    from reviews.services.escalation import escalate

    jobs.register("reviews.open_due", open_due_campaigns)
    jobs.register("reviews.remind", send_reminders)
    jobs.register("reviews.escalate", escalate)  # delegations, inactive and overdue reviewers
    jobs.register("reviews.close_overdue", close_overdue)
    jobs.register("reviews.apply", apply_closed_campaigns)
    # Grant expiry is registered by the permissions app itself ("expire-grants").
