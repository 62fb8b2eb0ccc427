"""The exception list of the dormancy policy: add or remove a customer (users: change), audited."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

import audit
from audit.events import EventType
from dormancy.models import DormancyException
from permissions.services.checks import require
from permissions.services.errors import AccessRefused, ErrorCode
from permissions.vocabulary import Action, SystemModule

MAX_REASON = 500


@transaction.atomic
def add_exception(user, *, actor, reason: str) -> DormancyException:
    """Leave ``user`` out of the dormancy policy, with a reason."""
    require(actor, Action.CHANGE, SystemModule.USERS)
    if actor is not None and user.tenant_id != actor.tenant_id:
        raise AccessRefused(ErrorCode.CROSS_TENANT)
    reason = (reason or "").strip()
    if not reason or len(reason) > MAX_REASON:
        raise AccessRefused(ErrorCode.INVALID, _("An exception needs a reason."))
    found = DormancyException.objects.filter(user=user).first()
    if found is not None:
        return found
    exception = DormancyException.objects.create(tenant_id=user.tenant_id, user=user, reason=reason, added_by=actor)
    audit.record(
        EventType.DORMANCY_EXCEPTION_ADDED,
        tenant=user.tenant,
        actor=actor,
        target=user,
        after={"user": audit.person(user)},
        reason=reason,
    )
    return exception


@transaction.atomic
def remove_exception(user, *, actor) -> bool:
    """Put ``user`` back under the policy; False when they were not exempt."""
    require(actor, Action.CHANGE, SystemModule.USERS)
    deleted, _rows = DormancyException.objects.filter(user=user).delete()
    if not deleted:
        return False
    audit.record(
        EventType.DORMANCY_EXCEPTION_REMOVED,
        tenant=user.tenant,
        actor=actor,
        target=user,
        before={"user": audit.person(user)},
    )
    return True
