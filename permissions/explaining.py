"""``explain`` and ``holders``: the paths behind a decision, for people (not the hot path).

Both read the same rows as the engine's compiled sets, with the same rules (a grant works while
not revoked and ``expires_at > now``), and property tests hold the four questions to one answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts.scoping import active_tenant
from permissions import sharing
from permissions.models import Grant, GroupMembership, Module, Resource, Role, RolePermission, SharingRule, SodRule
from permissions.vocabulary import BITS, Action


class PathKind:
    """The kinds of path that give access."""

    ROLE = "role"
    USER_MODULE_GRANT = "user_module_grant"
    GROUP_MODULE_GRANT = "group_module_grant"
    USER_RESOURCE_GRANT = "user_resource_grant"
    GROUP_RESOURCE_GRANT = "group_resource_grant"
    SHARING_RULE = "sharing_rule"


@dataclass(frozen=True)
class Path:
    """One reason a user may act: a role's matrix cell, or a grant (direct or through a group)."""

    kind: str
    module: Module
    action: str
    role: Role | None = None
    grant: Grant | None = None
    group_name: str = ""
    resource: Resource | None = None
    rule: SharingRule | None = None
    note: str = ""

    @property
    def expires_at(self) -> datetime | None:
        """When this path stops working (None: never)."""
        if self.rule is not None:
            return self.rule.expires_at
        return self.grant.expires_at if self.grant else None

    @property
    def text(self) -> str:
        """The path in a sentence, in the active language."""
        action = Action(self.action).label
        if self.kind == PathKind.SHARING_RULE:
            return _("%(rule)s → %(resource)s: %(action)s") % {
                "rule": self.note,
                "resource": self.resource.title,
                "action": action,
            }
        if self.kind == PathKind.ROLE:
            return _("Role %(role)s → %(module)s: %(action)s") % {
                "role": self.role.display_name,
                "module": self.module.display_name,
                "action": action,
            }
        grant = self.grant
        values = {
            "id": grant.pk,
            "action": action,
            "module": self.module.display_name,
            "resource": self.resource.title if self.resource else "",
            "group": self.group_name,
            "by": grant.granted_by.email if grant.granted_by_id else _("the system"),
        }
        if self.kind == PathKind.USER_MODULE_GRANT:
            text = _("Direct grant #%(id)s → %(module)s: %(action)s, by %(by)s") % values
        elif self.kind == PathKind.GROUP_MODULE_GRANT:
            text = _("Grant #%(id)s via group %(group)s → %(module)s: %(action)s, by %(by)s") % values
        elif self.kind == PathKind.USER_RESOURCE_GRANT:
            text = _("Direct grant #%(id)s → %(resource)s: %(action)s, by %(by)s") % values
        else:
            text = _("Grant #%(id)s via group %(group)s → %(resource)s: %(action)s, by %(by)s") % values
        if grant.expires_at:
            text += " " + _("(expires %(when)s)") % {
                "when": date_format(timezone.localtime(grant.expires_at), "DATETIME_FORMAT")
            }
        return text


@dataclass
class Explanation:
    """The decision, every path that gives it, and (when refused) why not."""

    allowed: bool
    paths: list[Path] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    #: Separation-of-duties rules the user violates now with a right on this module (detective flags).
    conflicts: list[str] = field(default_factory=list)


def _rows(model, tenant_id):
    # Explicit tenant filter: explain/holders also run in jobs and reviews, outside a request scope.
    return model._base_manager.filter(tenant_id=tenant_id)


def live(now) -> Q:
    """Grants not revoked and not expired at ``now`` (one definition: explain, holders, the console matrix)."""
    return Q(revoked_at__isnull=True) & (Q(expires_at__isnull=True) | Q(expires_at__gt=now))


def _resolve(target, tenant_id):
    """(module, resource) of a target, or (None, None) when it is not of this tenant."""
    if isinstance(target, Resource):
        if target.tenant_id != tenant_id:
            return None, None
        return _rows(Module, tenant_id).get(pk=target.module_id), target
    if isinstance(target, Module):
        return (target, None) if target.tenant_id == tenant_id else (None, None)
    return _rows(Module, tenant_id).filter(key=str(target)).first(), None


def _grant_filter(module, resource) -> Q:
    q = Q(module=module, resource__isnull=True)
    if resource is not None:
        q |= Q(resource=resource)
    return q


def path_for_grant(grant: Grant, module, action, group_names) -> Path:
    """The path a live grant gives ``action`` on ``module`` (its kind from user/group and module/resource)."""
    if grant.resource_id is None:
        kind = PathKind.USER_MODULE_GRANT if grant.user_id else PathKind.GROUP_MODULE_GRANT
    else:
        kind = PathKind.USER_RESOURCE_GRANT if grant.user_id else PathKind.GROUP_RESOURCE_GRANT
    return Path(
        kind=kind,
        module=module,
        action=action,
        grant=grant,
        resource=grant.resource,
        group_name=group_names.get(grant.group_id, ""),
    )


def explain(user, action, target) -> Explanation:
    """Every path by which ``user`` may ``action`` on ``target`` now, or the reasons they may not."""
    action = Action(action)
    bit = BITS[action]
    tenant_id = getattr(user, "tenant_id", None)
    if tenant_id is None:
        return Explanation(False, reasons=[_("Only users of this tenant can hold permissions here.")])
    if not user.is_active:
        return Explanation(False, reasons=[_("The user is inactive: an inactive user can do nothing.")])
    module, resource = _resolve(target, tenant_id)
    if module is None:
        return Explanation(False, reasons=[_("The target does not exist in this tenant.")])
    now = timezone.now()
    paths: list[Path] = []
    if user.role_id:
        cell = _rows(RolePermission, tenant_id).filter(role_id=user.role_id, module=module).first()
        if cell and cell.actions & bit:
            role = _rows(Role, tenant_id).get(pk=user.role_id)
            paths.append(Path(kind=PathKind.ROLE, module=module, action=action, role=role))
    memberships = list(_rows(GroupMembership, tenant_id).filter(user_id=user.pk).select_related("group"))
    group_names = {m.group_id: m.group.name for m in memberships}
    grants = list(
        _rows(Grant, tenant_id)
        .filter(_grant_filter(module, resource))
        .filter(Q(user_id=user.pk) | Q(group_id__in=list(group_names)))
        .select_related("granted_by", "resource")
        .order_by("id")
    )
    reasons = []
    for grant in grants:
        if not grant.actions & bit:
            continue
        if grant.is_active_at(now):
            paths.append(path_for_grant(grant, module, action, group_names))
        elif grant.revoked_at is not None:
            reasons.append(_("Grant #%(id)s was revoked.") % {"id": grant.pk})
        else:
            reasons.append(
                _("Grant #%(id)s expired at %(when)s.")
                % {"id": grant.pk, "when": date_format(timezone.localtime(grant.expires_at), "DATETIME_FORMAT")}
            )
    if resource is not None:
        paths += sharing_paths(user, module, resource, action, now)
    if not paths:
        reasons.append(_("No role, group or grant gives this action."))
        reasons += gate_reasons(user, module, bit)
    return Explanation(bool(paths), paths, [] if paths else reasons, conflicts=current_conflicts(user, module))


def gate_reasons(user, module, bit: int) -> list[str]:
    """Why a grant of this action would be refused or held (a separation-of-duties rule, a required lesson):
    the rule or lesson named, read by the same check the services run (``permissions.services.gates``)."""
    from permissions.services import gates
    from permissions.services.errors import AccessRefused

    try:
        needed = gates.enforce(gates.Gain([user], bits={module.pk: bit}), justification="-")
    except AccessRefused as refusal:
        return [_("A grant of this would be refused: %(why)s") % {"why": refusal}]
    return [
        _("A grant of this needs an approved exception to separation-of-duties rule “%(rule)s”: %(reason)s")
        % {"rule": hit.rule.name, "reason": hit.rule.reason}
        for hit in needed
    ]


def current_conflicts(user, module) -> list[str]:
    """The separation-of-duties rules ``user`` violates now with a right on ``module`` (or through their role)."""
    from permissions import sod

    if not sod.tenant_rules(user.tenant_id):  # no rule: no cost (the rules are cached per version)
        return []
    found = []
    for rule in sod.user_violations(user):
        sides = (rule.first, rule.second)
        if any(side.module_id == module.pk or side.role_id is not None for side in sides):
            found.append(rule.rule_id)
    if not found:
        return []
    return [
        _("Violates separation-of-duties rule “%(rule)s” (%(severity)s): %(reason)s")
        % {"rule": rule.name, "severity": rule.get_severity_display(), "reason": rule.reason}
        for rule in SodRule._base_manager.filter(tenant_id=user.tenant_id, pk__in=found)
    ]


def sharing_paths(user, module, resource, action, now) -> list[Path]:
    """The paths sharing rules give ``user`` on ``resource`` (``permissions.sharing``)."""
    return [
        Path(kind=PathKind.SHARING_RULE, module=module, action=action, resource=resource, rule=c.rule, note=text)
        for c, text in sharing.explained(user, resource, BITS[action], now)
    ]


@dataclass
class Holder:
    """A user who can, with their paths."""

    user: object
    paths: list[Path]


def holders(action, target, *, tenant=None) -> list[Holder]:
    """Every active user of the target's tenant who may ``action`` on ``target`` now, with their paths.

    A module key needs the tenant: ``tenant`` or the active scope's. A constant number of queries.
    """
    action = Action(action)
    bit = BITS[action]
    if isinstance(target, Resource | Module):
        tenant_id = target.tenant_id
    else:
        tenant = tenant or active_tenant()
        if tenant is None:
            raise ValueError("holders() of a module key needs a tenant")
        tenant_id = tenant.pk
    module, resource = _resolve(target, tenant_id)
    if module is None:
        return []
    now = timezone.now()
    User = get_user_model()
    users = _rows(User, tenant_id).filter(is_active=True)
    found: dict[int, Holder] = {}

    def add(user, path):
        found.setdefault(user.pk, Holder(user, [])).paths.append(path)

    cells = _rows(RolePermission, tenant_id).filter(module=module).select_related("role")
    roles = {cell.role_id: cell.role for cell in cells if cell.actions & bit}
    for user in users.filter(role_id__in=list(roles)):
        add(user, Path(kind=PathKind.ROLE, module=module, action=action, role=roles[user.role_id]))
    grants = [
        g
        for g in _rows(Grant, tenant_id)
        .filter(live(now))
        .filter(_grant_filter(module, resource))
        .select_related("granted_by", "resource", "group")
        .order_by("id")
        if g.actions & bit
    ]
    group_ids = {g.group_id for g in grants if g.group_id}
    group_names = {g.group_id: g.group.name for g in grants if g.group_id}
    members: dict[int, list[int]] = {}
    for m in _rows(GroupMembership, tenant_id).filter(group_id__in=group_ids):
        members.setdefault(m.group_id, []).append(m.user_id)
    wanted = {g.user_id for g in grants if g.user_id} | {uid for ids in members.values() for uid in ids}
    by_id = {u.pk: u for u in users.filter(pk__in=wanted)}
    for grant in grants:
        path = path_for_grant(grant, module, action, group_names)
        for user_id in [grant.user_id] if grant.user_id else members.get(grant.group_id, []):
            if user_id in by_id:
                add(by_id[user_id], path)
    if resource is not None:
        for rule, people in sharing.holder_rules(resource, bit, now):
            note = _("Sharing rule “%(rule)s”") % {"rule": rule.name}
            path = Path(
                kind=PathKind.SHARING_RULE, module=module, action=action, resource=resource, rule=rule, note=note
            )
            for user in people:
                add(user, path)
    return sorted(found.values(), key=lambda h: h.user.email)
