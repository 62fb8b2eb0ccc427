"""The training gate of ``permissions.services.gates``: a right or role the tenant ties to a lesson is given
only to users who completed it. The refusal names the lesson and links to it."""

from __future__ import annotations

import time

from django.urls import reverse
from django.utils.translation import gettext as _

from permissions.compiled import MAX_SET_SECONDS
from permissions.services.errors import AccessRefused, ErrorCode
from permissions.versioning import current_version
from training import lessons
from training.models import LessonCompletion, TrainingRequirement

_cached: dict[int, tuple[object, float, tuple]] = {}


def clear() -> None:
    """Forget every tenant's cached requirements (tests)."""
    _cached.clear()


def requirements(tenant_id: int) -> tuple:
    """The tenant's requirements as (lesson, role id, module id, mask), cached per authorization version
    (a requirement's creation or deletion raises it): no query while nothing changed."""
    version = current_version(tenant_id)
    entry = _cached.get(tenant_id)
    if entry is None or entry[0] != version or time.time() >= entry[1]:
        rows = tuple(
            TrainingRequirement._base_manager.filter(tenant_id=tenant_id).values_list(
                "lesson", "role_id", "module_id", "actions"
            )
        )
        entry = (version, time.time() + MAX_SET_SECONDS, rows)
        _cached[tenant_id] = entry
    return entry[2]


def required_lessons(tenant_id: int, given: dict[int, int], role_id: int | None) -> set[str]:
    """The lessons the tenant requires before ``given`` (module id → mask) or role ``role_id``."""
    found = set()
    for lesson, req_role, module_id, mask in requirements(tenant_id):
        if (req_role is not None and req_role == role_id) or (module_id is not None and given.get(module_id, 0) & mask):
            found.add(lesson)
    return found


def require_lessons(gain) -> None:
    """Refuse (``TRAINING_REQUIRED``, with a link to the lesson) when a user of the gain lacks a required lesson."""
    users = [u for u in gain.users if u is not None]
    if not users:
        return
    tenant_id = users[0].tenant_id
    needed = required_lessons(tenant_id, gain.given(), gain.role.pk if gain.role is not None else None)
    if not needed:
        return
    done = set(
        LessonCompletion._base_manager.filter(
            tenant_id=tenant_id, user_id__in=[u.pk for u in users], lesson__in=needed
        ).values_list("user_id", "lesson")
    )
    for user in users:
        for key in sorted(needed):
            if (user.pk, key) not in done:
                lesson = lessons.get(key)
                raise AccessRefused(
                    ErrorCode.TRAINING_REQUIRED,
                    _("Refused: %(user)s must first complete the security lesson “%(lesson)s”.")
                    % {"user": user.email, "lesson": lesson.title},
                    link=reverse("training:lesson", kwargs={"lesson_key": key}),
                )
