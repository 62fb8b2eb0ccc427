"""Rows → a plan: every row checked against the tenant (and the other rows) without writing anything, turned
into the operations that would bring the tenant to the state the rows describe. A row that already holds
gives no operation (importing the same file twice changes nothing the second time).

Every look-up goes through the tenant-scoped managers: another tenant's e-mail, role or organisation is
simply absent (a new user of this tenant, or "no such role")."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.organisations import Organisation
from integration import ops
from integration.rows import GRANT, MAX_ROWS, ORGANISATION, ROLE, USER, Parsed, Problem, Row
from permissions.models import Grant, Module, Role
from permissions.services.roles import matrix_of
from permissions.vocabulary import Action

ACTIONS = set(Action.values)


@dataclass
class Plan:
    operations: list = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    rows: int = 0

    def problem(self, row: Row, message: str) -> None:
        self.problems.append(Problem(row.where, message))


class Tenant:
    """What the plan reads of the tenant, once."""

    def __init__(self):
        self.roles: dict[str, Role] = {}
        for role in Role.objects.order_by("-builtin", "pk"):
            for name in (role.key, role.name, str(role.display_name)):
                self.roles.setdefault(name.strip().lower(), role)
        self.organisations = {o.name.lower(): o for o in Organisation.objects.all()}
        self.modules = {m.key: m for m in Module.objects.all()}

    def user(self, email: str) -> User | None:
        return User.objects.filter(email__iexact=email).select_related("role").first()


def build(parsed: Parsed) -> Plan:
    """The plan of ``parsed`` in the active tenant scope (reads only)."""
    plan = Plan(problems=list(parsed.problems), rows=len(parsed.rows))
    if len({(r.where, r.kind) for r in parsed.rows if not r.implied}) > MAX_ROWS:
        plan.problems.append(
            Problem(parsed.rows[0].where, _("More than %(count)d rows: split the file.") % {"count": MAX_ROWS})
        )
        return plan
    tenant = Tenant()
    by_kind = {kind: [r for r in parsed.rows if r.kind == kind] for kind in (ORGANISATION, ROLE, USER, GRANT)}
    new_orgs = _organisations(plan, tenant, by_kind[ORGANISATION])
    new_roles = _roles(plan, tenant, by_kind[ROLE])
    users = _users(plan, tenant, by_kind[USER], new_roles, new_orgs)
    _grants(plan, tenant, by_kind[GRANT], users)
    plan.problems.sort(key=lambda p: (p.where.source, p.where.line))
    return plan


def _first_of_each(plan: Plan, rows: list[Row], key, what: str) -> dict[str, Row]:
    """Rows by ``key`` (lower case); a described row wins over implied ones, a repeated one is a problem."""
    found: dict[str, Row] = {}
    for row in rows:
        name = key(row).strip().lower()
        if not name:
            plan.problem(row, _("The %(what)s has no name.") % {"what": what})
            continue
        seen = found.get(name)
        if seen is None or (seen.implied and not row.implied):
            found[name] = row
        elif not row.implied:
            plan.problem(
                row, _("“%(name)s” is repeated (first at %(where)s).") % {"name": key(row), "where": seen.where}
            )
    return found


def _organisations(plan: Plan, tenant: Tenant, rows: list[Row]) -> set[str]:
    """Organisations to create (parents first) or move; answers the lower-case names of the new ones."""
    wanted = _first_of_each(plan, rows, lambda r: r.data["name"], _("organisation"))
    new: dict[str, Row] = {}
    for name, row in wanted.items():
        parent = row.data["parent"] = row.data.get("parent", "").strip()
        if len(row.data["name"]) > 200:
            plan.problem(row, _("An organisation's name has at most 200 characters."))
        elif parent and parent.lower() not in tenant.organisations and parent.lower() not in wanted:
            plan.problem(
                row,
                _("The parent organisation “%(name)s” is neither in the tenant nor in the file.") % {"name": parent},
            )
        elif name not in tenant.organisations:
            new[name] = row
        elif not row.implied:
            current = tenant.organisations[name].parent
            if (current.name.lower() if current else "") != parent.lower():
                plan.operations.append(ops.MoveOrganisation(row.where, tenant.organisations[name], parent))
    _creations_parents_first(plan, new)
    plan.operations.sort(key=lambda o: 0 if isinstance(o, ops.CreateOrganisation) else 1)
    return set(new)


def _creations_parents_first(plan: Plan, new: dict[str, Row]) -> None:
    done: set[str] = set()
    while len(done) < len(new):  # what is left over when nothing is ready is a loop
        waiting = set(new) - done
        ready = [n for n in new if n not in done and new[n].data["parent"].lower() not in waiting]
        if not ready:
            for name in sorted(waiting):
                plan.problem(new[name], _("The organisations' parents form a loop."))
            return
        for name in ready:
            row = new[name]
            plan.operations.append(
                ops.CreateOrganisation(row.where, row.data["name"], row.data["external_id"], row.data["parent"])
            )
            done.add(name)


def _matrix(plan: Plan, tenant: Tenant, row: Row, matrix) -> dict[str, int] | None:
    if not isinstance(matrix, dict):
        plan.problem(row, _("The matrix must map module keys to lists of actions."))
        return None
    result = {}
    for key, actions in matrix.items():
        mask = _mask(plan, tenant, row, key, actions)
        if mask is None:
            return None
        if mask:
            result[key] = mask
    return result


def _mask(plan: Plan, tenant: Tenant, row: Row, key: str, actions) -> int | None:
    module = tenant.modules.get(str(key).strip())
    if module is None:
        plan.problem(row, _("There is no module “%(key)s”.") % {"key": key})
        return None
    names = [str(a).strip().lower() for a in (actions if isinstance(actions, list) else [actions])]
    unknown = [a for a in names if a not in ACTIONS]
    if unknown or not names:
        plan.problem(row, _("Unknown actions: %(names)s.") % {"names": ", ".join(unknown) or "—"})
        return None
    mask = 0
    for name in names:
        mask |= Action(name).bit
    if mask & ~module.actions:
        plan.problem(row, _("Some of these actions do not apply to the module “%(key)s”.") % {"key": key})
        return None
    return mask


def _roles(plan: Plan, tenant: Tenant, rows: list[Row]) -> dict[str, dict[str, int]]:
    """Roles to create or whose matrix changes; answers the new ones' matrices by lower-case name."""
    wanted = _first_of_each(plan, rows, lambda r: r.data["name"], _("role"))
    new = {}
    for name, row in wanted.items():
        if len(row.data["name"]) > 100:
            plan.problem(row, _("A role's name has at most 100 characters."))
            continue
        matrix = row.data.get("matrix")
        mask = _matrix(plan, tenant, row, matrix) if matrix is not None else {}
        if mask is None:
            continue
        role = tenant.roles.get(name)
        if role is None:
            new[name] = mask
            plan.operations.append(ops.CreateRole(row.where, row.data["name"], row.data["description"], mask))
        elif matrix is not None and mask != matrix_of(role):
            plan.operations.append(ops.SetMatrix(row.where, role, mask))
    return new


def _users(plan: Plan, tenant: Tenant, rows: list[Row], new_roles, new_orgs) -> dict[str, object]:
    """Users to invite or change; answers every e-mail of the file → its User (existing) or "new"."""
    users: dict[str, object] = {}
    first: dict[str, Row] = {}
    for row in rows:
        data = row.data
        email = data["email"].strip().lower()
        try:
            validate_email(email)
        except ValidationError:
            plan.problem(row, _("“%(value)s” is not an e-mail address.") % {"value": data["email"]})
            continue
        if email in first:
            plan.problem(
                row, _("“%(name)s” is repeated (first at %(where)s).") % {"name": email, "where": first[email].where}
            )
            continue
        first[email] = row
        existing = tenant.user(email)
        if existing is None and not data["active"]:
            users[email] = "skipped"  # an inactive newcomer is not imported (nor what only they name)
            continue
        role, organisation = data["role"].strip().lower(), data["organisation"].strip().lower()
        if role and role not in tenant.roles and role not in new_roles:
            plan.problem(row, _("There is no role “%(name)s” in the tenant or the file.") % {"name": data["role"]})
            continue
        if organisation and organisation not in tenant.organisations and organisation not in new_orgs:
            plan.problem(
                row,
                _("There is no organisation “%(name)s” in the tenant or the file.") % {"name": data["organisation"]},
            )
            continue
        if existing is None:
            users[email] = "new"
            plan.operations.append(
                ops.InviteUser(row.where, email, data["full_name"][:200], data["role"], data["organisation"])
            )
            continue
        users[email] = existing
        change = ops.UpdateUser.of(row.where, existing, tenant, data)
        if change is not None:
            plan.operations.append(change)
    return users


def _expiry(value: str):
    """An ISO date or date-time (Salesforce's ``2027-06-30T00:00:00.000Z`` too), or None when empty."""
    if not value:
        return None
    moment = parse_datetime(value.replace("Z", "+00:00"))
    if moment is None:
        day = parse_date(value[:10])
        if day is None:
            raise ValueError(value)
        moment = datetime.combine(day, time(23, 59))
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment)


def _grants(plan: Plan, tenant: Tenant, rows: list[Row], users: dict[str, object]) -> None:
    now = timezone.now()
    for row in rows:
        data = row.data
        email = data["email"].strip().lower()
        user = users.get(email) or tenant.user(email)
        if user == "skipped":
            continue  # the rights of someone not imported (inactive in the CRM)
        if user is None:
            plan.problem(
                row, _("“%(email)s” is neither a user of the tenant nor in the file.") % {"email": data["email"]}
            )
            continue
        mask = _mask(plan, tenant, row, data["module"], data["actions"])
        if mask is None:
            continue
        try:
            expires_at = _expiry(data["expires_at"])
        except ValueError:
            plan.problem(row, _("“%(value)s” is not a date.") % {"value": data["expires_at"]})
            continue
        if expires_at is not None and expires_at <= now:
            plan.problem(row, _("The expiry %(value)s is past.") % {"value": data["expires_at"]})
            continue
        module = tenant.modules[data["module"].strip()]
        if user != "new" and _holds(user, module, mask, now):
            continue
        reason = data["reason"] or _("Imported")
        plan.operations.append(ops.CreateGrant(row.where, email, module, mask, expires_at, reason[:500]))


def _holds(user: User, module: Module, mask: int, now) -> bool:
    """A live direct grant on the whole module already gives these actions."""
    live = Q(expires_at__isnull=True) | Q(expires_at__gt=now)
    rows = Grant.objects.filter(live, user=user, module=module, resource__isnull=True, revoked_at__isnull=True)
    return any(g.actions & mask == mask for g in rows)
