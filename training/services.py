"""Training use cases: pass a lesson (answers and attestation), require a lesson before rights, remove a
requirement. Each in one transaction with its audit event."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

import audit
from audit.events import EventType
from permissions.services.checks import require, same_tenant
from permissions.services.errors import AccessRefused, ErrorCode
from permissions.versioning import bump
from permissions.vocabulary import Action, actions_of, mask_of
from training import lessons
from training.models import LessonCompletion, TrainingRequirement


def wrong_answers(lesson: lessons.Lesson, answers: list[int | None]) -> list[int]:
    """The (0-based) numbers of the questions ``answers`` gets wrong or leaves out."""
    return [
        index
        for index, question in enumerate(lesson.questions)
        if index >= len(answers) or answers[index] != question.answer
    ]


@transaction.atomic
def complete_lesson(user, key: str, answers: list[int | None], *, attested: bool) -> LessonCompletion:
    """Record that ``user`` passed lesson ``key``: every answer right and the attestation given. A lesson
    passed again keeps its first completion date and moves its attestation date."""
    lesson = lessons.get(key)
    if lesson is None or getattr(user, "tenant_id", None) is None:
        raise AccessRefused(ErrorCode.INVALID, "no such lesson")
    if wrong_answers(lesson, answers):
        raise AccessRefused(ErrorCode.INVALID, "some answers are not right yet")
    if not attested:
        raise AccessRefused(ErrorCode.INVALID, "tick the attestation to complete the lesson")
    now = timezone.now()
    completion = LessonCompletion.objects.select_for_update().filter(user=user, lesson=key).first()
    first = completion is None
    if first:
        completion = LessonCompletion.objects.create(
            tenant_id=user.tenant_id, user=user, lesson=key, completed_at=now, attested_at=now
        )
    else:
        completion.attested_at = now
        completion.save(update_fields=["attested_at"])
    audit.record(
        EventType.LESSON_COMPLETED,
        tenant=user.tenant,
        actor=user,
        target=completion,
        after={"lesson": key, "first": first, "attested_at": now.isoformat()},
    )
    return completion


def describe(requirement: TrainingRequirement) -> dict:
    """A requirement for the trail."""
    return {
        "lesson": requirement.lesson,
        "role": requirement.role.key if requirement.role_id else None,
        "module": requirement.module.key if requirement.module_id else None,
        "actions": [a.value for a in actions_of(requirement.actions)],
    }


@transaction.atomic
def create_requirement(*, actor, tenant, lesson: str, role=None, module=None, actions=()) -> TrainingRequirement:
    """Require ``lesson`` before ``role`` is given, or before any of ``actions`` on ``module``. Needs grants:
    create. Rights already held stay; every later change that gives them asks for the lesson."""
    if actor is not None and actor.tenant_id != tenant.pk:
        raise AccessRefused(ErrorCode.CROSS_TENANT)
    require(actor, Action.CREATE, "grants")
    same_tenant(tenant.pk, role, module)
    if lessons.get(lesson) is None:
        raise AccessRefused(ErrorCode.INVALID, "choose a lesson")
    if (role is None) == (module is None):
        raise AccessRefused(ErrorCode.INVALID, "choose a role, or a module with actions")
    mask = mask_of(actions or ()) if module is not None else 0
    if module is not None and (not mask or mask & ~module.actions):
        raise AccessRefused(ErrorCode.INVALID, "choose actions that apply to the module")
    requirement = TrainingRequirement.objects.create(
        tenant=tenant, lesson=lesson, role=role, module=module, actions=mask, created_by=actor
    )
    audit.record(
        EventType.TRAINING_REQUIREMENT_CREATED,
        tenant=tenant,
        actor=actor,
        target=requirement,
        after=describe(requirement),
    )
    return requirement


@transaction.atomic
def delete_requirement(requirement: TrainingRequirement, *, actor) -> None:
    """Stop requiring the lesson. Needs grants: delete."""
    if actor is not None:
        same_tenant(actor.tenant_id, requirement)
    require(actor, Action.DELETE, "grants")
    audit.record(
        EventType.TRAINING_REQUIREMENT_DELETED,
        tenant=requirement.tenant,
        actor=actor,
        target=requirement,
        before=describe(requirement),
    )
    requirement.delete()
    bump(requirement.tenant_id)
