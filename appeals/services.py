"""Open a case, talk, resolve (with a grant when the approver gives access), close: each change and its audit
event in one transaction; the customer is told of each answer (accessrequests.notify: in the portal and by
e-mail after the commit). The conversation's text stays out of the audit trail (it may hold personal data);
the events record who did what, when, and the outcome."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

import audit
from accessrequests.models import AccessRequest, Notice
from accessrequests.notify import notify
from appeals import rules
from appeals.errors import CaseRefused
from appeals.models import Case, Message
from appeals.workdays import add_working_days
from audit.events import EventType
from permissions.models import Grant, GroupMembership, Provenance
from permissions.services import grants
from permissions.services.checks import require_scope
from permissions.services.errors import AccessRefused
from permissions.vocabulary import actions_of, mask_of

MAX_BODY = 4000
MAX_SUBJECT = 200


def _text(value: str, limit: int, missing: str) -> str:
    value = (value or "").strip()
    if not value:
        raise CaseRefused(missing)
    if len(value) > limit:
        raise CaseRefused(_("Keep it under %(limit)s characters.") % {"limit": limit})
    return value


def due_from(tenant, start) -> object:
    """When an answer is due: the tenant's working days from ``start``."""
    return add_working_days(start, tenant.appeal_due_days, tenant.time_zone)


def owns_grant(user, grant: Grant) -> bool:
    """The grant was the user's own, or their group's."""
    if grant.user_id is not None:
        return grant.user_id == user.pk
    return GroupMembership.objects.filter(group_id=grant.group_id, user=user).exists()


def _check_subject(actor, kind, module, resource, request, grant) -> None:
    for obj in (module, resource, request, grant):
        if obj is not None and obj.tenant_id != actor.tenant_id:
            raise CaseRefused(_("That belongs to another organisation."))
    if kind not in Case.Kind.values:
        raise CaseRefused(_("Say what the case is about."))
    if resource is not None and (module is None or resource.module_id != module.pk):
        raise CaseRefused(_("The resource is not in that module."))
    if request is not None and (
        request.requester_id != actor.pk
        or request.status not in (AccessRequest.Status.DENIED, AccessRequest.Status.EXPIRED)
    ):
        raise CaseRefused(_("Only a denied or expired request of your own can be appealed."))
    if grant is not None and not owns_grant(actor, grant):
        raise CaseRefused(_("Only access of your own can be appealed."))


def _record(event, case, actor, **after) -> None:
    audit.record(event, tenant=case.tenant, actor=actor, target=case, after={"state": case.state, **after})


@transaction.atomic
def open_case(*, actor, kind, subject, body, module=None, resource=None, request=None, grant=None) -> Case:
    """The customer ``actor`` opens a case (a denial, a revocation, or access they miss), with a first message.

    A denial's or a grant's module and resource become the case's, so that their owners handle it."""
    if actor is None or not actor.is_active or actor.tenant_id is None:
        raise CaseRefused(_("Log in to open a case."))
    _check_subject(actor, kind, module, resource, request, grant)
    source = request or grant
    if source is not None:
        module, resource = source.module, source.resource
    subject = _text(subject, MAX_SUBJECT, _("Give the case a subject."))
    body = _text(body, MAX_BODY, _("Tell the approvers what happened."))
    now = timezone.now()
    tenant = actor.tenant
    case = Case.objects.create(
        tenant=tenant,
        customer=actor,
        kind=kind,
        subject=subject,
        module=module,
        resource=resource,
        request=request,
        grant=grant,
        created_at=now,
        due_at=due_from(tenant, now),
    )
    Message.objects.create(tenant=tenant, case=case, author=actor, from_customer=True, body=body, created_at=now)
    _record(
        EventType.APPEAL_OPENED,
        case,
        actor,
        kind=kind,
        module=module.key if module else None,
        resource=case.resource_id,
        request=case.request_id,
        grant=case.grant_id,
        due_at=case.due_at.isoformat(),
    )
    return case


def locked(case: Case) -> Case:
    """The case's row, locked, read again (the state another writer left it in)."""
    found = Case.objects.select_for_update(of=("self",)).select_related("tenant", "customer", "module").get(pk=case.pk)
    if found.state == Case.State.CLOSED:
        raise CaseRefused(_("This case is closed."))
    return found


def _tell_customer(case: Case, what: str) -> None:
    notify(case.customer, Notice.Kind.CASE_UPDATE, {"case": case.pk, "subject": case.subject, "what": what})


@transaction.atomic
def reply(case: Case, *, actor, body: str) -> Message:
    """A message in the conversation. An approver's answers the case (the customer is told); the customer's
    reopens an answered or resolved case, with a new due time."""
    case = locked(case)
    body = _text(body, MAX_BODY, _("Write a message."))
    customer = actor is not None and actor.pk == case.customer_id
    if not customer and not rules.is_handler(actor, case):
        raise CaseRefused(_("You cannot answer this case."))
    now = timezone.now()
    message = Message.objects.create(
        tenant=case.tenant, case=case, author=actor, from_customer=customer, body=body, created_at=now
    )
    before = case.state
    if customer and case.state != Case.State.OPEN:
        case.state, case.due_at, case.escalated_at = Case.State.OPEN, due_from(case.tenant, now), None
        case.outcome = Case.Outcome.NONE
    elif not customer:
        case.state = Case.State.ANSWERED if case.state == Case.State.OPEN else case.state
        case.answered_at = case.answered_at or now
        _tell_customer(case, "answered")
    case.save(update_fields=["state", "due_at", "escalated_at", "outcome", "answered_at"])
    _record(EventType.APPEAL_REPLIED, case, actor, before=before, by="customer" if customer else "approver")
    return message


def _resolve(case: Case, actor, outcome: str, body: str, now) -> None:
    Message.objects.create(tenant=case.tenant, case=case, author=actor, body=body, created_at=now)
    before = case.state
    case.state, case.outcome, case.resolved_at, case.resolved_by = Case.State.RESOLVED, outcome, now, actor
    case.answered_at = case.answered_at or now
    case.save(update_fields=["state", "outcome", "resolved_at", "resolved_by", "answered_at", "result_grant"])
    _record(EventType.APPEAL_RESOLVED, case, actor, before=before, outcome=outcome, grant=case.result_grant_id)
    _tell_customer(case, "resolved")


@transaction.atomic
def resolve(case: Case, *, actor, outcome: str, body: str) -> Case:
    """An approver resolves the case without giving access (upheld, or explained), with a last answer."""
    case = locked(case)
    if not rules.is_handler(actor, case):
        raise CaseRefused(_("You cannot answer this case."))
    if outcome not in (Case.Outcome.UPHELD, Case.Outcome.EXPLAINED):
        raise CaseRefused(_("Choose an outcome."))
    if case.state == Case.State.RESOLVED:
        raise CaseRefused(_("This case is already resolved."))
    _resolve(case, actor, outcome, _text(body, MAX_BODY, _("Tell the customer why.")), timezone.now())
    return case


@transaction.atomic
def grant_from_case(case: Case, *, actor, actions, days: int, body: str = "") -> Case:
    """An approver gives the customer access from the case: a time-bound grant on the case's module (or
    resource), referenced "case:<id>", within the approver's own rights; the case is resolved with it.

    Console (system-module) access is not given from a case: it needs two approvers (an access request)."""
    case = locked(case)
    if not rules.is_handler(actor, case):
        raise CaseRefused(_("You cannot answer this case."))
    if case.state == Case.State.RESOLVED:
        raise CaseRefused(_("This case is already resolved."))
    if case.module is None:
        raise CaseRefused(_("The case names no module: ask the customer to request the access."))
    if case.module.is_system:
        raise CaseRefused(_("Console access needs two approvers: ask the customer to request it."))
    if not case.customer.is_active:
        raise CaseRefused(_("The customer's account is deactivated."))
    if not isinstance(days, int) or not 1 <= days <= case.tenant.request_max_days:
        raise CaseRefused(_("Choose a duration within the tenant's maximum."))
    try:
        mask = mask_of(actions)
    except (KeyError, ValueError) as exc:
        raise CaseRefused(_("Choose actions that apply to the module.")) from exc
    if not mask or mask & ~case.module.actions:
        raise CaseRefused(_("Choose actions that apply to the module."))
    target = case.resource or case.module
    now = timezone.now()
    reason = f"Case #{case.pk}: {case.subject}"
    try:
        require_scope(actor, mask, target)
        grants.validate_grant(
            actor=None,
            module=case.module,
            actions=actions_of(mask),
            reason=reason,
            user=case.customer,
            resource=case.resource,
            expires_at=now + timedelta(days=days),
        )
    except AccessRefused as exc:
        raise CaseRefused(str(exc.code.label)) from exc
    case.result_grant = grants.apply_grant(
        actor=actor,
        module=case.module,
        mask=mask,
        reason=reason,
        user=case.customer,
        group=None,
        resource=case.resource,
        expires_at=now + timedelta(days=days),
        provenance=Provenance.MANUAL,
        reference=f"case:{case.pk}",
    )
    text = (body or "").strip() or _("Access given: %(actions)s for %(days)s days.") % {
        "actions": ", ".join(str(a.label) for a in actions_of(mask)),
        "days": days,
    }
    _resolve(case, actor, Case.Outcome.GRANTED, text[:MAX_BODY], now)
    return case


@transaction.atomic
def close(case: Case, *, actor) -> Case:
    """The customer closes their case (withdrawn while open, answered enough, or resolved); an approver closes a
    resolved one."""
    case = locked(case)
    customer = actor is not None and actor.pk == case.customer_id
    if not customer and not (rules.is_handler(actor, case) and case.state == Case.State.RESOLVED):
        raise CaseRefused(_("You cannot close this case."))
    before = case.state
    if case.state == Case.State.OPEN:
        case.outcome = Case.Outcome.WITHDRAWN
    elif case.state == Case.State.ANSWERED:  # the customer closes it after an answer: nothing else to do
        case.outcome = Case.Outcome.EXPLAINED
    case.state, case.closed_at = Case.State.CLOSED, timezone.now()
    case.save(update_fields=["state", "outcome", "closed_at"])
    _record(EventType.APPEAL_CLOSED, case, actor, before=before, outcome=case.outcome)
    return case


def overdue(queryset, now=None):
    """The cases waiting for an approver past their due time."""
    return queryset.filter(Q(state=Case.State.OPEN) & Q(due_at__lte=now or timezone.now()))
