"""'My access': what I may do per module and per object, why (the engine's explanation paths), until
when; my pending requests; my notices; a link to my login history."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accessrequests.models import AccessRequest, Notice
from accessrequests.notify import notice_link, notice_text
from permissions import engine
from permissions.explaining import Path, PathKind
from permissions.models import Grant, GroupMembership, Module, Role, RolePermission
from permissions.views import login_only
from workspace.views import _tenant_user


def source_label(path) -> str:
    """Where a path comes from (a role, a direct grant, a group's grant), without its action."""
    if path.kind == PathKind.ROLE:
        return _("Role %(role)s") % {"role": path.role.display_name}
    if path.kind == PathKind.SHARING_RULE:
        return path.note
    grant = path.grant
    values = {
        "id": grant.pk,
        "group": path.group_name,
        "by": grant.granted_by.email if grant.granted_by_id else _("the system"),
    }
    if path.group_name:
        text = _("Grant #%(id)s via group %(group)s, by %(by)s") % values
    else:
        text = _("Direct grant #%(id)s, by %(by)s") % values
    if grant.expires_at:
        text += " " + _("(expires %(when)s)") % {
            "when": date_format(timezone.localtime(grant.expires_at), "DATETIME_FORMAT")
        }
    return text


def module_rows(user) -> list[dict]:
    """Per module the user holds something on: each source of access (the paths of ``engine.explain``,
    grouped by role or grant) with the actions it gives, and until when the access lasts.

    A module on which the user holds no module-wide grant owes everything to the role: its role paths
    are built from the role's matrix (one query for all modules) instead of one ``explain`` per action;
    every other module is explained by the engine action by action.
    """
    now = timezone.now()
    groups = list(GroupMembership.objects.filter(user=user).values_list("group_id", flat=True))
    granted = set(
        Grant.objects.filter(Q(user=user) | Q(group_id__in=groups), resource__isnull=True, revoked_at__isnull=True)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .values_list("module_id", flat=True)
    )
    role = Role.objects.filter(pk=user.role_id).first()
    cells = dict(RolePermission.objects.filter(role_id=user.role_id).values_list("module_id", "actions"))
    rows = []
    for module in Module.objects.order_by("kind", "name"):
        held = engine.module_actions(user, module)
        if not held:
            continue
        sources: dict[tuple, dict] = {}
        ends: dict = {}  # until (None: no end) -> the actions that last until then
        for action in held:
            if module.pk not in granted and role is not None and cells.get(module.pk, 0) & action.bit:
                paths = [Path(kind=PathKind.ROLE, module=module, action=action, role=role)]
            else:
                paths = engine.explain(user, action, module).paths
            ends.setdefault(_until(paths), []).append(action)
            for path in paths:
                key = (path.kind, path.role.pk if path.role else None, path.grant.pk if path.grant else None)
                entry = sources.setdefault(key, {"label": source_label(path), "actions": []})
                entry["actions"].append(action)
        rows.append({"module": module, "sources": list(sources.values()), "ends": _ends(ends)})
    return rows


def _ends(ends: dict) -> list[dict]:
    """When the module's actions end, soonest first and "no end" last: a module whose edit right expires
    says so even when its view right (from the role) has no end."""
    dated = sorted((until, actions) for until, actions in ends.items() if until is not None)
    rows = [{"until": until, "actions": actions} for until, actions in dated]
    if None in ends:
        rows.append({"until": None, "actions": ends[None]})
    return rows


def _until(paths):
    """Access through these paths lasts until the latest path ends (None: no end)."""
    if not paths or any(p.expires_at is None for p in paths):
        return None
    return max(p.expires_at for p in paths)


def my_grants(user) -> list[Grant]:
    """My live grants, direct or through my groups, module-wide or on one object."""
    now = timezone.now()
    groups = list(GroupMembership.objects.filter(user=user).values_list("group_id", flat=True))
    return list(
        Grant.objects.filter(Q(user=user) | Q(group_id__in=groups))
        .filter(revoked_at__isnull=True)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .select_related("module", "resource", "group", "granted_by")
        .order_by("expires_at", "pk")
    )


def my_rules(user) -> list[dict]:
    """The sharing rules that give me something, each in a sentence ("because you work for Initech")."""
    from permissions import sharing
    from permissions.vocabulary import actions_of

    now = timezone.now()
    rules = sharing.live_rules(user.tenant_id, now)
    if not rules:
        return []
    orgs = sharing.tree(user.tenant_id)
    modules = {m.pk: m for m in Module.objects.all()}
    rows = []
    for clause in sharing.clauses_for(user, rules, orgs):
        module = modules[clause.module_id]
        if clause.criterion is not None:
            scope = _("%(module)s where %(key)s = “%(value)s”") % {
                "module": module.display_name,
                "key": clause.criterion[0],
                "value": clause.criterion[1],
            }
        else:
            names = sorted(orgs[o].name for o in clause.owners if o in orgs)
            scope = _("%(module)s owned by %(organisations)s") % {
                "module": module.display_name,
                "organisations": ", ".join(names),
            }
        text = sharing.describe(clause, orgs.get(user.organisation_id))
        rows.append({"rule": clause.rule, "text": text, "scope": scope, "actions": actions_of(clause.bits)})
    return rows


@login_only
@require_GET
def my_access(request):
    """The page."""
    _tenant_user(request)
    user = request.user
    notices = list(Notice.objects.filter(user=user, read_at__isnull=True)[:20])
    return render(
        request,
        "workspace/my_access.html",
        {
            "modules": module_rows(user),
            "grants": my_grants(user),
            "rules": my_rules(user),
            "pending": list(
                AccessRequest.objects.filter(requester=user, status=AccessRequest.Status.PENDING).select_related(
                    "module"
                )
            ),
            "notices": [
                {"text": notice_text(n.kind, n.params, user), "link": notice_link(n.kind, n.params), "at": n.created_at}
                for n in notices
            ],
        },
    )


@login_only
@require_POST
def mark_notices_read(request):
    """Mark my notices as read (a POST: a GET never changes state)."""
    _tenant_user(request)
    with transaction.atomic():
        Notice.objects.filter(user=request.user, read_at__isnull=True).update(read_at=timezone.now())
    return redirect("workspace:my_access")
