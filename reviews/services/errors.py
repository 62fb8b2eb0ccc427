"""Refusals of the review services, with a message for the person who acted and a code for machines."""

from __future__ import annotations

#: Codes of refusals (the API answers them with their own status; the screens show the message).
INVALID = "invalid"  # the input does not satisfy the rules (justification, reduce target, …)
NOT_REVIEWER = "not_reviewer"  # the item is another reviewer's, or the actor may not review
SELF_REVIEW = "self_review"  # nobody reviews their own access
NOT_OPEN = "campaign_not_open"  # the campaign no longer (or not yet) takes decisions


class ReviewRefused(Exception):
    """A decision, reassignment or policy change that the rules refuse (message is translated)."""

    def __init__(self, message: str = "", *, code: str = INVALID):
        self.code = code
        super().__init__(message)
