"""Refusals of the appeals services: a message the person reads; nothing changed."""

from __future__ import annotations


class CaseRefused(Exception):
    """A refused case action; ``str()`` is the translated reason."""
