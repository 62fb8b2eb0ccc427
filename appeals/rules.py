"""Who may read and handle a case: the customer reads their own; the approvers of access requests handle it.

Handlers are the approvers of the access the case is about (accessrequests.rules): the tenant's administrators
(requests: approve), the owners of its module and of its resource; never the customer. A case about no module
("I cannot see what I should") is for the administrators. Holders of requests: view read every case.
"""

from __future__ import annotations

from django.db.models import Q

from accessrequests.rules import is_administrator_approver, may_approve_anything, owned_module_ids
from permissions import engine
from permissions.vocabulary import Action, SystemModule


def is_handler(user, case) -> bool:
    """Whether ``user`` may answer, resolve and grant from ``case``."""
    if user is None or user.pk == case.customer_id or user.tenant_id != case.tenant_id:
        return False
    if is_administrator_approver(user):
        return True
    if case.resource_id and case.resource.owner_id == user.pk:
        return True
    return case.module_id is not None and case.module_id in owned_module_ids(user)


def _handled_by(user) -> Q:
    return Q(module_id__in=owned_module_ids(user)) | Q(resource__owner=user)


def readable(user, queryset):
    """The cases ``user`` may read: their own, those they handle; all for administrators and requests: view."""
    if is_administrator_approver(user) or engine.can(user, Action.VIEW, SystemModule.REQUESTS):
        return queryset
    return queryset.filter(Q(customer=user) | _handled_by(user))


def handled(user, queryset):
    """The approvers' queue: the cases ``user`` handles (never their own)."""
    rows = queryset.exclude(customer=user)
    if is_administrator_approver(user):
        return rows
    return rows.filter(_handled_by(user))


def may_handle_anything(user) -> bool:
    """Whether the approvers' queue of cases concerns ``user`` (the menu entry, the queue page)."""
    return may_approve_anything(user)
