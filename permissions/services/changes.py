"""Pending changes: escalations wait for a second administrator (both steps audited)."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

import audit
from audit.events import EventType
from audit.recording import Target
from permissions import engine
from permissions.models import Group, GroupMembership, Module, PendingChange, Resource, Role, RolePermission
from permissions.services import gates
from permissions.services.checks import require, same_tenant
from permissions.services.errors import AccessRefused, ErrorCode
from permissions.services.hierarchy import Right, require_outranks, require_outranks_all
from permissions.vocabulary import Action, actions_of, mask_of


def require_approver_holds(approver, gives) -> None:
    """Refuse (``APPROVER_LACKS``, naming each missing right) unless ``approver`` holds every action the
    change gives: ``gives`` is (target, mask) pairs, a target being a module key, a Module or a Resource
    (INS-3: approvers approve only what they hold, for every kind of pending change)."""
    missing = []
    for target, mask in gives:
        for action in actions_of(mask):
            if not engine.can(approver, action, target):
                if isinstance(target, Resource):
                    missing.append(Right(target.module.key, action, target.title))
                else:
                    missing.append(Right(getattr(target, "key", target), action))
    if missing:
        raise AccessRefused(ErrorCode.APPROVER_LACKS, missing=missing)


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
    """Refuse a pending change (the requester may withdraw their own).

    The decision is made on the row locked and read again here, never on the caller's copy: a copy
    loaded before someone approved the change still says "pending", and rejecting it would mark an
    applied change rejected while what it gave stays live (Zulip's actions lock and re-read the same way).
    """
    same_tenant(actor.tenant_id, change)
    change = PendingChange.objects.select_for_update().get(pk=change.pk)
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
        require_approver_holds(approver, [(resource or module, mask_of(payload["actions"]))])
        grants.validate_grant(
            actor=approver,
            module=module,
            actions=payload["actions"],
            reason=change.reason or "-",
            user=user,
            group=group,
            resource=resource,
            expires_at=expires_at,
            exempt=payload.get("sod_exceptions") or (),
        )
        gain = grants.grant_gain(module, mask_of(payload["actions"]), user=user, group=group)
        gates.record_exceptions(gain, payload, requested_by=requester, approved_by=approver)
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
        user = User.objects.select_for_update().get(pk=payload["user"])
        role = Role.objects.get(pk=payload["role"])
        require_approver_holds(approver, roles.matrix_of(role).items())
        require_outranks(approver, user)  # the approver may act on this user at all (INS-1)
        gates.record_exceptions(gates.Gain([user], role=role), payload, requested_by=requester, approved_by=approver)
        return roles.apply_role_change(
            user, role, actor=requester, reason=change.reason, exempt=payload.get("sod_exceptions") or ()
        )
    if change.kind == PendingChange.Kind.MATRIX:
        return _apply_matrix_change(change, approver=approver)
    if change.kind == PendingChange.Kind.MEMBERSHIP:
        from permissions.services import groups

        User = get_user_model()
        group = Group.objects.get(pk=payload["group"])
        user = User.objects.get(pk=payload["user"])
        if user.pk == approver.pk:
            raise AccessRefused(ErrorCode.SELF_APPROVAL)
        # Joining gives the group's live grants: the approver must hold each of them (INS-3).
        require_approver_holds(
            approver, ((each.resource or each.module, each.actions) for each in groups.live_grants(group))
        )
        if GroupMembership.objects.filter(group=group, user=user).exists():
            return GroupMembership.objects.get(group=group, user=user)
        gates.record_exceptions(
            groups.membership_gain(group, user), payload, requested_by=requester, approved_by=approver
        )
        return groups.apply_add_member(
            group, user, actor=requester, owner=payload.get("owner", False), exempt=payload.get("sod_exceptions") or ()
        )
    if change.kind == PendingChange.Kind.SETTINGS:
        from accounts.services import apply_tenant_settings

        require(approver, Action.CHANGE, "settings")
        return apply_tenant_settings(
            requester.tenant, actor=requester, reason=change.reason, approved_by=approver, **payload["changes"]
        )
    if change.kind == PendingChange.Kind.SSO_MAPPING:
        from sso.services import apply_pending_mapping

        return apply_pending_mapping(change, approver=approver)
    raise AccessRefused(ErrorCode.INVALID)


def _apply_matrix_change(change: PendingChange, *, approver):
    """Apply what the requester changed, on the role's matrix as it is now: the cells the request added
    and removed (against the matrix it was made on) are applied, and every later edit of other cells
    stays. The approver must hold every action the change adds (INS-3)."""
    from permissions.services import roles

    payload = change.payload
    role = Role.objects.select_for_update().get(pk=payload["role"])
    if approver.role_id == role.pk:
        raise AccessRefused(ErrorCode.SELF_ROLE)
    list(RolePermission.objects.select_for_update().filter(role=role).values_list("pk", flat=True))  # its cells
    requested = {key: int(mask) for key, mask in payload["matrix"].items()}
    current = roles.matrix_of(role)
    # Requests queued before the snapshot was recorded: diff against the matrix as it is now.
    before = {key: int(mask) for key, mask in payload.get("before", current).items()}
    result = dict(current)
    gives = []
    for key in set(requested) | set(before):
        added = requested.get(key, 0) & ~before.get(key, 0)
        removed = before.get(key, 0) & ~requested.get(key, 0)
        cell = (current.get(key, 0) | added) & ~removed
        if added & ~current.get(key, 0):
            gives.append((key, added & ~current.get(key, 0)))
        if cell:
            result[key] = cell
        else:
            result.pop(key, None)
    require_approver_holds(approver, gives)
    if any(mask & ~result.get(key, 0) for key, mask in current.items()):
        require_outranks_all(approver, role.users.filter(is_active=True))  # it takes rights from holders
    if result == current:
        return role
    gates.record_exceptions(
        roles.matrix_gain(role, result), payload, requested_by=change.requested_by, approved_by=approver
    )
    return roles.apply_matrix(
        role, result, actor=change.requested_by, reason=change.reason, exempt=payload.get("sod_exceptions") or ()
    )
