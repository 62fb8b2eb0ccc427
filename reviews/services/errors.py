"""Refusals of the review services, with a message for the person who acted."""

from __future__ import annotations


class ReviewRefused(Exception):
    """A decision, reassignment or policy change that the rules refuse (message is translated)."""
