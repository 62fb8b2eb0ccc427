"""Pending changes: escalations wait for a second administrator (both steps audited)."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

import audit
from audit.events import EventType
from audit.recording import Target
from permissions.models import Group, Module, PendingChange, Resource, Role
from permissions.services.checks import require, same_tenant
from permissions.services.errors import AccessRefused, ErrorCode
from permissions.vocabulary import Action, mask_of


def request_change(*, actor, kind: str, payload: dict, summary: str, reason: str) -> PendingChange:
    """Queue a change for a second administrator (inside the caller's transaction)."""
    change = PendingChange.objects.create(
        tenant_id=actor.tenant_id,
        kind=kind,
        payload=payload,
        summary=summary[:300],
        reason=reason or "",
        requested_by=actor,
    )
    audit.record(
        EventType.CHANGE_REQUESTED,
        tenant=actor.tenant,
        actor=actor,
        target=_target(change),
        after={"kind": kind, "change": payload},
        reason=reason or "",
    )
    return change


def _target(change: PendingChange) -> Target:
    """The change as an audit target. Its summary ("reports: view → bob@…") names the user the change is
    about: the label is recorded as a commitment under that user (erasable with them), never in clear."""
    subject = next(iter(_subject_user_ids(change)), None)
    return Target(type=change._meta.label_lower, id=str(change.pk), label=str(change)[:300], subject=subject)


def _subject_user_ids(change: PendingChange) -> set[int]:
    payload = change.payload
    if change.kind == PendingChange.Kind.ROLE_CHANGE:
        return {payload["user"]}
    if change.kind in (PendingChange.Kind.GRANT, PendingChange.Kind.MEMBERSHIP) and payload.get("user"):
        return {payload["user"]}
    return set()


@transaction.atomic
def approve_change(change: PendingChange, *, actor):
    """Apply a pending change as approved by ``actor``: a different administrator holding grants: approve,
    who is not its subject and who holds what it gives. Returns what was applied."""
    same_tenant(actor.tenant_id, change)
    change = PendingChange.objects.select_for_update().get(pk=change.pk)
    if change.status != PendingChange.Status.PENDING:
        raise AccessRefused(ErrorCode.ALREADY_DECIDED)
    if change.requested_by_id == actor.pk:
        raise AccessRefused(ErrorCode.SELF_APPROVAL)
    if actor.pk in _subject_user_ids(change):
        raise AccessRefused(ErrorCode.SELF_APPROVAL)
    require(actor, Action.APPROVE, "grants")
    result = _apply(change, approver=actor)
    change.status = PendingChange.Status.APPROVED
    change.decided_by = actor
    change.decided_at = timezone.now()
    change.result_id = str(getattr(result, "pk", ""))
    change.save(update_fields=["status", "decided_by", "decided_at", "result_id"])
    audit.record(
        EventType.CHANGE_APPROVED,
        tenant=actor.tenant,
        actor=actor,
        target=_target(change),
        after={"kind": change.kind, "requested_by": audit.person(change.requested_by)},
    )
    return result


@transaction.atomic
def reject_change(change: PendingChange, *, actor, reason: str = "") -> PendingChange:
    """Refuse a pending change (the requester may withdraw their own)."""
    same_tenant(actor.tenant_id, change)
    if change.status != PendingChange.Status.PENDING:
        raise AccessRefused(ErrorCode.ALREADY_DECIDED)
    if change.requested_by_id != actor.pk:
        require(actor, Action.APPROVE, "grants")
    change.status = PendingChange.Status.REJECTED
    change.decided_by = actor
    change.decided_at = timezone.now()
    change.save(update_fields=["status", "decided_by", "decided_at"])
    audit.record(
        EventType.CHANGE_REJECTED,
        tenant=actor.tenant,
        actor=actor,
        target=_target(change),
        after={"kind": change.kind},
        reason=reason,
    )
    return change


def _apply(change: PendingChange, *, approver):
    from permissions.services import grants, roles

    payload = change.payload
    requester = change.requested_by
    if change.kind == PendingChange.Kind.GRANT:
        User = get_user_model()
        module = Module.objects.get(pk=payload["module"])
        user = User.objects.get(pk=payload["user"]) if payload.get("user") else None
        group = Group.objects.get(pk=payload["group"]) if payload.get("group") else None
        resource = Resource.objects.get(pk=payload["resource"]) if payload.get("resource") else None
        expires_at = datetime.fromisoformat(payload["expires_at"]) if payload.get("expires_at") else None
        if expires_at is not None and expires_at <= timezone.now():
            raise AccessRefused(ErrorCode.INVALID, "the requested expiry has passed")
        # The approver is held to the same rules as the requester (no self-grant, within their scope).
        grants.validate_grant(
            actor=approver,
            module=module,
            actions=payload["actions"],
            reason=change.reason or "-",
            user=user,
            group=group,
            resource=resource,
            expires_at=expires_at,
        )
        return grants.apply_grant(
            actor=requester,
            module=module,
            mask=mask_of(payload["actions"]),
            reason=change.reason or "-",
            user=user,
            group=group,
            resource=resource,
            expires_at=expires_at,
            provenance=payload["provenance"],
            reference=payload.get("reference", ""),
            approved_by=approver,
        )
    if change.kind == PendingChange.Kind.ROLE_CHANGE:
        User = get_user_model()
        user = User.objects.get(pk=payload["user"])
        role = Role.objects.get(pk=payload["role"])
        for key, mask in roles.matrix_of(role).items():
            from permissions.services.checks import require_scope

            require_scope(approver, mask, key)
        return roles.apply_role_change(user, role, actor=requester, reason=change.reason)
    if change.kind == PendingChange.Kind.MATRIX:
        role = Role.objects.get(pk=payload["role"])
        if approver.role_id == role.pk:
            raise AccessRefused(ErrorCode.SELF_ROLE)
        matrix = {key: int(mask) for key, mask in payload["matrix"].items()}
        return roles.apply_matrix(role, matrix, actor=requester, reason=change.reason)
    if change.kind == PendingChange.Kind.MEMBERSHIP:
        from permissions.services import groups

        User = get_user_model()
        group = Group.objects.get(pk=payload["group"])
        user = User.objects.get(pk=payload["user"])
        if user.pk == approver.pk:
            raise AccessRefused(ErrorCode.SELF_APPROVAL)
        return groups.apply_add_member(group, user, actor=requester, owner=payload.get("owner", False))
    if change.kind == PendingChange.Kind.SETTINGS:
        from accounts.services import apply_tenant_settings

        require(approver, Action.CHANGE, "settings")
        return apply_tenant_settings(
            requester.tenant, actor=requester, reason=change.reason, approved_by=approver, **payload["changes"]
        )
    raise AccessRefused(ErrorCode.INVALID)
