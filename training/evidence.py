"""Lesson completions as review evidence: each item of a campaign carries its user's completed lessons."""

from __future__ import annotations

from collections import defaultdict

from training.models import LessonCompletion


def add_training_evidence(candidates, now) -> None:
    """Add ``evidence["training"]`` ({lesson: attestation date}) and a reason to each candidate (one query,
    inside the tenant scope)."""
    done: dict[int, dict[str, str]] = defaultdict(dict)
    for user_id, lesson, attested_at in LessonCompletion.objects.values_list("user_id", "lesson", "attested_at"):
        done[user_id][lesson] = attested_at.isoformat()
    for candidate in candidates:
        lessons = done.get(candidate.user_id, {})
        candidate.evidence["training"] = lessons
        candidate.reasons.append(["training", {"lessons": ", ".join(sorted(lessons))}])
