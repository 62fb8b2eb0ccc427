"""A pending change in words, in the reader's language: the module, role and action names of today, never the
keys or the proposer's language the stored summary was written in (issue 19). A constant number of queries for
a page of changes."""

from __future__ import annotations

from accounts.models import User
from permissions.models import Group, Module, PendingChange, Resource, Role
from permissions.vocabulary import actions_of, mask_of


def _ids(changes, key: str) -> set[int]:
    return {c.payload.get(key) for c in changes if isinstance(c.payload.get(key), int)}


def _as_mask(value) -> int:
    return value if isinstance(value, int) else mask_of(value or ())


def attach_summaries(changes) -> list:
    """Set ``readable_summary`` on each change (the stored summary for the kinds worded elsewhere)."""
    from permissions.services.roles import _matrix_summary

    changes = list(changes)
    modules = {m.pk: m for m in Module.objects.filter(pk__in=_ids(changes, "module"))}
    resources = dict(Resource.objects.filter(pk__in=_ids(changes, "resource")).values_list("pk", "title"))
    roles = {r.pk: r for r in Role.objects.filter(pk__in=_ids(changes, "role"))}
    users = dict(User.objects.filter(pk__in=_ids(changes, "user")).values_list("pk", "email"))
    groups = dict(Group.objects.filter(pk__in=_ids(changes, "group")).values_list("pk", "name"))
    by_key = {}
    if any(c.kind == PendingChange.Kind.MATRIX for c in changes):
        by_key = {m.key: m for m in Module.objects.all()}
    for change in changes:
        payload, text = change.payload, None
        if change.kind == PendingChange.Kind.GRANT and payload.get("module") in modules:
            what = str(modules[payload["module"]].display_name)
            if payload.get("resource") in resources:
                what = f"{what}: {resources[payload['resource']]}"
            actions = ", ".join(str(a.label) for a in actions_of(mask_of(payload.get("actions") or ())))
            subject = users.get(payload.get("user")) or groups.get(payload.get("group")) or ""
            text = f"{what}: {actions} → {subject}"
        elif change.kind == PendingChange.Kind.MATRIX and payload.get("role") in roles:
            old = {k: _as_mask(v) for k, v in (payload.get("before") or {}).items()}
            new = {k: _as_mask(v) for k, v in (payload.get("matrix") or {}).items()}
            text = _matrix_summary(roles[payload["role"]], old, new, by_key)
        elif change.kind == PendingChange.Kind.ROLE_CHANGE and payload.get("role") in roles:
            text = f"{users.get(payload.get('user'), '')} → {roles[payload['role']].display_name}"
        change.readable_summary = text or change.summary
    return changes
