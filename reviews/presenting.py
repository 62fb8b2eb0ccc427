"""How items read on screen and in exports: the access, the reasons, the change since opening."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from intelligence.presenting import proposal_evidence_text
from permissions.models import BuiltinRole, Grant, Module, Role
from permissions.vocabulary import Action
from reviews.models import ApplyResult, Decision, ItemKind

BASIS = {"role": lambda: _("peers with the same role"), "group": lambda: _("peers in the same groups")}


def reason_text(code: str, params: dict) -> str:
    """One frozen reason in the reader's language."""
    basis = BASIS.get(params.get("basis"), lambda: _("all users"))()
    texts = {
        "deactivated": lambda: _("The user is deactivated."),
        "dormant": lambda: (
            _("Dormant: no login for %(days)s days (the dormancy policy deactivates customers).") % params
        ),
        "new_user": lambda: _("User created in the last %(days)s days: not flagged as unused.") % params,
        "never_used": lambda: _("Never used (%(days)s days since granted).") % params,
        "unused": lambda: _("Unused for %(days)s days.") % params,
        "used_recently": lambda: (
            ngettext("Used %(days)s day ago.", "Used %(days)s days ago.", params["days"]) % params
            if params["days"]
            else _("Used today.")
        ),
        "rare": lambda: _("Held by only %(percent)s%% of %(basis)s.") % {**params, "basis": basis},
        "common": lambda: _("Held by %(percent)s%% of %(basis)s.") % {**params, "basis": basis},
        "some_peers": lambda: _("Held by %(percent)s%% of %(basis)s.") % {**params, "basis": basis},
        "no_peers": lambda: _("No peers to compare with."),
        "sod_conflict": lambda: _("Part of a separation-of-duties violation: %(rules)s.") % params,
        "training": lambda: _training_text(params),
        "no_login": lambda: _("No login for %(days)s days.") % params,
        "holders": lambda: (
            ngettext(
                "Gives access to %(count)s active user.", "Gives access to %(count)s active users.", params["count"]
            )
            % params
        ),
        "no_holders": lambda: _("Nobody active holds it."),
        "rule": lambda: _("Rule created %(days)s days ago.") % params,
    }
    return texts.get(code, lambda: code)()


def _training_text(params: dict) -> str:
    from training.lessons import get

    keys = [key for key in (params.get("lessons") or "").split(", ") if key]
    if not keys:
        return _("No security lesson completed.")
    titles = [str(get(key).title) if get(key) else key for key in keys]
    return _("Security lessons completed: %(lessons)s.") % {"lessons": ", ".join(titles)}


class Names:
    """Module and role names of today in the reader's language, by the keys a snapshot froze (two queries)."""

    def __init__(self):
        self.modules = {m.key: str(m.display_name) for m in Module.objects.all()}
        self.roles = {r.key: str(r.display_name) for r in Role.objects.all()}

    def readable(self, snap: dict) -> dict:
        """The snapshot with its module key and role name read for people (a deleted one keeps its frozen text)."""
        snap = dict(snap)
        if snap.get("module"):
            snap["module"] = self.modules.get(snap["module"], snap["module"])
        if snap.get("role"):
            snap["role_name"] = self.roles.get(snap["role"], snap.get("role_name") or snap["role"])
        return snap


def access_text(item, names: Names | None = None) -> str:
    """ "Role Administrator" or "Reports → Q3 revenue: View, Export" from the frozen snapshot, in the reader's
    language (``names``: shared by a page of items)."""
    snap = (names or Names()).readable(item.snapshot)
    if item.kind == ItemKind.ROLE:
        return _("Role %(role)s") % {"role": snap.get("role_name") or snap.get("role")}
    if item.kind in OTHER_TEXTS:
        return OTHER_TEXTS[item.kind](snap)
    actions = ", ".join(str(Action(a).label) for a in snap.get("actions", []))
    target = snap.get("module", "")
    if snap.get("resource"):
        target = f"{target} → {snap['resource']}"
    return _("Grant #%(id)s: %(target)s: %(actions)s") % {"id": snap.get("grant"), "target": target, "actions": actions}


def _actions(snap: dict) -> str:
    return ", ".join(str(Action(a).label) for a in snap.get("actions", []))


def _target(snap: dict) -> str:
    return f"{snap.get('module', '')} → {snap['resource']}" if snap.get("resource") else snap.get("module", "")


OTHER_TEXTS = {
    ItemKind.MEMBERSHIP: lambda snap: _("Member of the group %(group)s") % {"group": snap.get("group_name")},
    ItemKind.GROUP_GRANT: lambda snap: (
        _("Group %(group)s: grant #%(id)s: %(target)s: %(actions)s")
        % {"group": snap.get("group_name"), "id": snap.get("grant"), "target": _target(snap), "actions": _actions(snap)}
    ),
    ItemKind.MATRIX: lambda snap: (
        _("Role %(role)s gives %(actions)s on %(module)s")
        % {"role": snap.get("role_name"), "actions": _actions(snap), "module": snap.get("module")}
    ),
    ItemKind.ORGANISATION: lambda snap: (
        _("Member of the organisation %(organisation)s") % {"organisation": snap.get("organisation_name")}
    ),
    ItemKind.SHARING: lambda snap: (
        _("Sharing rule %(name)s: %(actions)s on %(module)s")
        % {"name": snap.get("name"), "actions": _actions(snap), "module": snap.get("module")}
    ),
}


def _applied_role_id(item, basic: int | None) -> int | None:
    """The role this campaign itself gave the user when it applied the item's revoke or reduce (None if it
    changed nothing): that change is the review's outcome, not a change "since opening"."""
    if item.apply_result != ApplyResult.APPLIED:
        return None
    if item.final_decision == Decision.REVOKE:
        return basic
    if item.final_decision == Decision.REDUCE:
        return item.reduce_role_id
    return None


def _basic_role_id(items) -> int | None:
    """The Basic role (what a revoked membership falls back to), read only if a page needs it."""
    if not any(i.kind == ItemKind.ROLE and i.apply_result == ApplyResult.APPLIED for i in items):
        return None
    return Role.objects.filter(builtin=True, key=BuiltinRole.BASIC).values_list("pk", flat=True).first()


def changes_since_opening(items) -> dict[int, str]:
    """What changed on each item's access since the campaign opened (one query for the grants of the page)."""
    grant_ids = [item.grant_id for item in items if item.grant_id]
    grants = {g.pk: g for g in Grant.objects.filter(pk__in=grant_ids)} if grant_ids else {}
    basic = _basic_role_id(items)
    now = timezone.now()
    out = {}
    for item in items:
        if item.kind not in (ItemKind.ROLE, ItemKind.GRANT, ItemKind.GROUP_GRANT):
            continue
        if item.kind == ItemKind.ROLE:
            if item.user.role_id != item.role_id and item.user.role_id != _applied_role_id(item, basic):
                out[item.pk] = _("The user's role changed since opening.")
            elif not item.user.is_active:
                out[item.pk] = _("The user was deactivated since opening.")
            continue
        grant = grants.get(item.grant_id)
        if grant is None or grant.revoked_at is not None:
            if item.applied_at is None:
                out[item.pk] = _("The grant was revoked since opening.")
        elif not grant.is_active_at(now):
            out[item.pk] = _("The grant expired since opening.")
        else:
            frozen = item.snapshot.get("expires_at")
            current = grant.expires_at.isoformat() if grant.expires_at else None
            if frozen != current:
                out[item.pk] = _("The grant's expiry changed since opening.")
    return out


def when(value: str | None) -> datetime | None:
    """A frozen ISO timestamp as a datetime (for the date filter of templates)."""
    return datetime.fromisoformat(value) if value else None


def earlier_stages(items) -> dict[int, list]:
    """What earlier stages decided on each item of a page (one query)."""
    from reviews.models import StageDecision

    out: dict[int, list] = {}
    ids = [item.pk for item in items if item.stage > 1]
    if ids:
        rows = StageDecision.objects.filter(item_id__in=ids).select_related("decided_by").order_by("stage")
        for row in rows:
            out.setdefault(row.item_id, []).append(row)
    return out


def decorate(items) -> list:
    """Attach the texts a template needs to each item of a page."""
    changes = changes_since_opening(items)
    history = earlier_stages(items)
    names = Names() if items else None
    for item in items:
        item.history = history.get(item.pk, [])
        item.access = access_text(item, names)
        item.reason_texts = [reason_text(code, params) for code, params in item.reasons]
        item.change = changes.get(item.pk, "")
        item.last_login = when(item.evidence.get("last_login"))
        item.last_used = when(item.evidence.get("last_used"))
        item.expires = when(item.snapshot.get("expires_at"))
        item.intelligence_text = proposal_evidence_text(item.evidence.get("intelligence"))
    return items
