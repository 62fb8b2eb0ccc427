"""Telling a customer that they lost access, whatever took it away: one audit listener, not copies in services.

``tell_who_lost_access`` listens to ``audit.record`` (audit.recording.on_record), inside the change's transaction,
so the notice commits or rolls back with the change. It covers every path that takes access away, because each
one records its event: a grant revoked (by an administrator, a review, the API or SCIM; a review's "reduce" is
told as a shorter end), a grant expired (the expiry job), a role changed for one with fewer rights, a group
left while it held grants, a role's matrix that lost rights (every holder). Each person concerned gets a
notice in the portal and an e-mail after the commit (accessrequests.notify), with the reason and a link to
appeal, where they can also ask again.
"""

from __future__ import annotations

from collections import defaultdict

from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from accessrequests.models import Notice
from accessrequests.notify import _when, notify, notify_many, register_kind
from accounts.models import User
from accounts.scoping import ScopeError, tenant_scope
from audit.events import EventType
from permissions.models import Grant, Group, GroupMembership, Module, Resource, Role
from permissions.services.groups import live_grants
from permissions.services.roles import matrix_of
from permissions.vocabulary import Action, BusinessModule, SystemModule, actions_of, mask_of
from portal.stored_text import readable


def _module_name(key: str, name: str) -> str:
    """A seeded module's name in the reader's language; a custom module's own name (its Chinese one in Chinese)."""
    for vocabulary in (BusinessModule, SystemModule):
        if key in vocabulary.values:
            return str(vocabulary(key).label)
    module = _live(Module, key=key)
    return str(module.display_name) if module is not None else name


def _live(model, **lookup):
    """The row named by a notice, read now in the reader's scope; None when gone or outside a scope."""
    try:
        return model.objects.filter(**lookup).first()
    except ScopeError:
        return None


def _role_text(params: dict, which: str) -> str:
    """A role of a notice by its key, named in the reader's language; the recorded name for older notices."""
    role = _live(Role, key=params[f"{which}_key"]) if params.get(f"{which}_key") else None
    return str(role.display_name) if role is not None else params.get(which, "")


def _lost_text(lost: list) -> str:
    """[[module key, name, [actions]], …] as "Reports: View, Export; Products: View" in the reader's language."""
    parts = []
    for key, name, actions in lost:
        labels = ", ".join(str(Action(a).label) for a in actions if a in Action.values)
        parts.append(f"{_module_name(key, name)}: {labels}")
    return "; ".join(parts)


def _target_text(params: dict) -> str:
    """The module, and the resource by its title (its holder was given it, so may read its name)."""
    name = _module_name(params.get("module", ""), params.get("module_name", ""))
    if not params.get("resource"):
        return name
    resource = _live(Resource, pk=params["resource"])
    title = resource.title if resource is not None else f"#{params['resource']}"
    return f"{name}: {title}"


def notice_text(params: dict) -> str:
    """A lost-access notice in a sentence, in the active language (ACCESS_REVOKED, _REDUCED, _EXPIRED)."""
    values = {
        "target": _target_text(params),
        "actions": ", ".join(str(Action(a).label) for a in params.get("actions", []) if a in Action.values),
        "lost": _lost_text(params.get("lost", [])),
        "when": _when(params.get("when")),
        "from": _role_text(params, "role_from"),
        "to": _role_text(params, "role_to"),
        "group": params.get("group", ""),
        "reason": readable(params.get("reason")) or _("no reason was given"),
    }
    texts = {
        "revoked": _("Your access to %(target)s (%(actions)s) was revoked. Reason: %(reason)s."),
        "review": _(
            "An access review shortened your access to %(target)s: it now ends on %(when)s. Reason: %(reason)s."
        ),
        "expired": _("Your access to %(target)s (%(actions)s) ended on %(when)s, as it was granted."),
        "role": _("Your role changed from %(from)s to %(to)s: it no longer gives you %(lost)s. Reason: %(reason)s."),
        "group": _("You were removed from the group %(group)s and no longer have its access: %(lost)s."),
        "matrix": _("Your role %(to)s no longer gives you %(lost)s. Reason: %(reason)s."),
    }
    text = texts.get(params.get("via"), texts["revoked"]) % values
    again = _("You can ask for it again or appeal.")  # outside the f-string: xgettext reads no f-string
    return f"{text} {again}"


def notice_link(params: dict) -> str:
    """The appeal form, about the grant (or the module) that was lost; it also offers to ask again."""
    query = {"kind": "revocation"}
    if params.get("grant"):
        query["grant"] = params["grant"]
    elif params.get("lost"):
        query["module"] = params["lost"][0][0]
    return reverse("appeals:new") + "?" + urlencode(query)


def case_text(params: dict) -> str:
    """News of a case: answered, or resolved."""
    if params.get("what") == "resolved":
        return _("Your case #%(case)s “%(subject)s” was resolved. Read the answer.") % params
    return _("An approver answered your case #%(case)s “%(subject)s”.") % params


def case_link(params: dict) -> str:
    return reverse("appeals:detail", kwargs={"case_id": params["case"]})


def register_notices() -> None:
    """Word and link this app's notice kinds (AppConfig.ready)."""
    for kind in (Notice.Kind.ACCESS_REVOKED, Notice.Kind.ACCESS_REDUCED, Notice.Kind.ACCESS_EXPIRED):
        register_kind(kind, notice_text, notice_link)
    register_kind(Notice.Kind.CASE_UPDATE, case_text, case_link)


def _reason(recorded) -> str:
    return str(recorded.event.payload.get("reason") or "")[:500]


def _holders(grant: Grant) -> list:
    if grant.user_id is not None:
        return [grant.user] if grant.user.is_active else []
    members = GroupMembership.objects.filter(group_id=grant.group_id, user__is_active=True).select_related("user")
    return [m.user for m in members]


def _review_reduction(grant: Grant):
    """The new end when this revocation is an access review's "reduce" being applied, else None."""
    from reviews.models import Decision, ReviewItem

    item = ReviewItem.objects.filter(grant_id=grant.pk, final_decision=Decision.REDUCE, applied_at__isnull=True)
    return item.values_list("reduce_expires_at", flat=True).first()


def _grant_ended(recorded, expired: bool) -> None:
    grant = Grant.objects.filter(pk=recorded.target.id).select_related("user", "module").first()
    if grant is None:
        return
    params = {
        "via": "expired" if expired else "revoked",
        "grant": grant.pk,
        "module": grant.module.key,
        "module_name": grant.module.name,
        "resource": grant.resource_id,
        "actions": [a.value for a in actions_of(grant.actions)],
        "reason": _reason(recorded),
    }
    kind = Notice.Kind.ACCESS_EXPIRED if expired else Notice.Kind.ACCESS_REVOKED
    if expired:
        params["when"] = grant.expires_at.isoformat()
    elif recorded.actor_id is None and (shorter := _review_reduction(grant)) is not None:  # reviews apply as the system
        kind, params["via"], params["when"] = Notice.Kind.ACCESS_REDUCED, "review", shorter.isoformat()
    notify_many(_holders(grant), kind, params)


def _lost(before: dict[str, int], after: dict[str, int]) -> list:
    """[[key, name, [actions]], …] of what ``before`` held that ``after`` does not."""
    gone = {key: mask & ~after.get(key, 0) for key, mask in before.items() if mask & ~after.get(key, 0)}
    if not gone:
        return []
    names = dict(Module.objects.filter(key__in=list(gone)).values_list("key", "name"))
    return [[key, names.get(key, key), [a.value for a in actions_of(mask)]] for key, mask in sorted(gone.items())]


def _role_name(key) -> str:
    role = Role.objects.filter(key=key).first()
    return str(role.display_name) if role is not None else str(key or "")


def _role_changed(recorded) -> None:
    user = User.objects.filter(pk=recorded.target.id, is_active=True).first()
    old = Role.objects.filter(key=(recorded.before or {}).get("role")).first()
    if user is None or old is None or user.role is None:
        return
    lost = _lost(matrix_of(old), matrix_of(user.role))
    if lost:
        params = {"via": "role", "role_from": str(old.display_name), "role_to": str(user.role.display_name)}
        params.update(role_from_key=old.key, role_to_key=user.role.key)
        notify(user, Notice.Kind.ACCESS_REDUCED, {**params, "lost": lost, "reason": _reason(recorded)})


def _as_masks(readable: dict | None) -> dict[str, int]:
    return {key: mask_of(actions) for key, actions in (readable or {}).items()}


def _matrix_changed(recorded) -> None:
    lost = _lost(_as_masks(recorded.before), _as_masks(recorded.after))
    role = Role.objects.filter(pk=recorded.target.id).first()
    if not lost or role is None:
        return
    params = {"via": "matrix", "role_to": str(role.display_name), "lost": lost, "reason": _reason(recorded)}
    params["role_to_key"] = role.key
    notify_many(list(role.users.filter(is_active=True)), Notice.Kind.ACCESS_REDUCED, params)


def _left_group(recorded) -> None:
    named = (recorded.before or {}).get("user")
    user = User.objects.filter(pk=getattr(named, "id", None), is_active=True).first()
    group = Group.objects.filter(pk=recorded.target.id).first()
    if user is None or group is None:
        return
    held: dict[str, int] = defaultdict(int)
    for grant in live_grants(group):
        held[grant.module.key] |= grant.actions
    if held:
        params = {"via": "group", "group": group.name, "lost": _lost(dict(held), {}), "reason": _reason(recorded)}
        notify(user, Notice.Kind.ACCESS_REDUCED, params)


_HANDLERS = {
    EventType.GRANT_REVOKED.value: lambda recorded: _grant_ended(recorded, expired=False),
    EventType.GRANT_EXPIRED.value: lambda recorded: _grant_ended(recorded, expired=True),
    EventType.USER_ROLE_CHANGED.value: _role_changed,
    EventType.ROLE_MATRIX_CHANGED.value: _matrix_changed,
    EventType.GROUP_MEMBER_REMOVED.value: _left_group,
}


def tell_who_lost_access(recorded) -> None:
    """The audit listener: a notice for each person whose access the recorded change took away or reduced."""
    handler = _HANDLERS.get(recorded.event.event_type)
    if handler is None or recorded.target is None:
        return
    with tenant_scope(recorded.tenant):
        handler(recorded)
