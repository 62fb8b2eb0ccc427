"""The operations of a plan. Each one calls the permission services (never a model's save), so every check
applies as in the console: the actor's rights and scope (AZ-6), the hierarchy (INS-1), the last administrator,
the separation-of-duties gates, four-eyes for console rights (the service answers a PendingChange), and each
service's audit event. ``effects`` is the impact preview (``permissions.services.preview``) before anything runs."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from accounts import services as account_services
from permissions import engine
from permissions.models import BuiltinRole, PendingChange, Role
from permissions.services import grants as grant_services
from permissions.services import organisations as organisation_services
from permissions.services import preview
from permissions.services import roles as role_services
from permissions.services.checks import require, require_scope
from permissions.services.escalation import role_escalates
from permissions.vocabulary import Action, SystemModule, actions_of

APPLIED, PENDING = "applied", "pending"


class Context:
    """Names → objects while a plan runs (what earlier operations created included)."""

    def __init__(self, tenant, actor, planned_matrices: dict[str, dict[str, int]] | None = None):
        from integration.plan import Tenant

        self.tenant, self.actor = tenant, actor
        self.known = Tenant()
        self.planned = planned_matrices or {}
        self.users: dict[str, object] = {}

    def role(self, name: str):
        """The role named ``name`` (None for no name); a role this import failed to create is a refusal."""
        if not name.strip():
            return None
        found = self.known.roles.get(name.strip().lower())
        if found is None:
            raise ValueError(_("The role %(name)s was not created (see its row).") % {"name": name})
        return found

    def organisation(self, name: str):
        if not name.strip():
            return None
        found = self.known.organisations.get(name.strip().lower())
        if found is None:
            raise ValueError(_("The organisation %(name)s was not created (see its row).") % {"name": name})
        return found

    def user(self, email: str):
        found = self.users.get(email) or self.known.user(email)
        if found is None:
            raise ValueError(_("%(email)s was not created (see the row that invites them).") % {"email": email})
        return found

    def matrix(self, name: str) -> dict[str, int]:
        """The matrix a role has, or would have once created by this import."""
        role = self.known.roles.get(name.strip().lower())
        return role_services.matrix_of(role) if role is not None else self.planned.get(name.strip().lower(), {})


def _awaits_approval(user, role) -> bool:
    """That role change is already waiting for a second administrator (an earlier import asked for it)."""
    return PendingChange.objects.filter(
        status=PendingChange.Status.PENDING,
        kind=PendingChange.Kind.ROLE_CHANGE,
        payload__user=user.pk,
        payload__role=role.pk,
    ).exists()


def _outcome(result) -> str:
    return PENDING if isinstance(result, PendingChange) else APPLIED


def _changes(module, mask: int) -> list[str]:
    return [str(preview.Change(module.key, action, module.display_name)) for action in actions_of(mask)]


def _matrix_changes(ctx: Context, matrix: dict[str, int]) -> list[str]:
    modules = ctx.known.modules
    return [text for key, mask in sorted(matrix.items()) if key in modules for text in _changes(modules[key], mask)]


def _impact_rows(impact) -> list[tuple[str, list[str], list[str]]]:
    people = set(impact.gained) | set(impact.lost)
    return [
        (u.email, [str(c) for c in impact.gained.get(u, [])], [str(c) for c in impact.lost.get(u, [])])
        for u in sorted(people, key=lambda u: u.email)
    ]


@dataclass
class CreateOrganisation:
    where: object
    name: str
    external_id: str
    parent: str
    kind = "organisation"

    def summary(self) -> str:
        if self.parent:
            return _("Create the organisation %(name)s under %(parent)s") % {"name": self.name, "parent": self.parent}
        return _("Create the organisation %(name)s") % {"name": self.name}

    def run(self, ctx: Context) -> str:
        org = organisation_services.create_organisation(
            actor=ctx.actor,
            tenant=ctx.tenant,
            name=self.name,
            external_id=self.external_id,
            parent=ctx.organisation(self.parent),
        )
        ctx.known.organisations[org.name.lower()] = org
        return APPLIED

    def effects(self, ctx: Context) -> list:
        return []


@dataclass
class MoveOrganisation:
    where: object
    organisation: object
    parent: str
    kind = "organisation"

    def summary(self) -> str:
        return _("Move the organisation %(name)s under %(parent)s") % {
            "name": self.organisation.name,
            "parent": self.parent or "—",
        }

    def run(self, ctx: Context) -> str:
        organisation_services.reparent_organisation(
            self.organisation, actor=ctx.actor, parent=ctx.organisation(self.parent)
        )
        return APPLIED

    def effects(self, ctx: Context) -> list:
        return []


@dataclass
class CreateRole:
    where: object
    name: str
    description: str
    matrix: dict
    kind = "role"

    def summary(self) -> str:
        return _("Create the role %(name)s") % {"name": self.name}

    def run(self, ctx: Context) -> str:
        role = role_services.create_role(
            actor=ctx.actor, tenant=ctx.tenant, name=self.name, description=self.description
        )
        ctx.known.roles[role.name.lower()] = role
        if self.matrix:
            return _outcome(role_services.set_role_matrix(role, self.matrix, actor=ctx.actor, reason=_("Import")))
        return APPLIED

    def effects(self, ctx: Context) -> list:
        return []


@dataclass
class SetMatrix:
    where: object
    role: Role
    matrix: dict
    kind = "role"

    def summary(self) -> str:
        return _("Change the matrix of the role %(name)s") % {"name": self.role.display_name}

    def run(self, ctx: Context) -> str:
        return _outcome(role_services.set_role_matrix(self.role, self.matrix, actor=ctx.actor, reason=_("Import")))

    def effects(self, ctx: Context) -> list:
        return _impact_rows(preview.preview_role_matrix(self.role, self.matrix))


@dataclass
class InviteUser:
    where: object
    email: str
    full_name: str
    role: str
    organisation: str
    kind = "user"

    def summary(self) -> str:
        return _("Invite %(email)s as %(role)s") % {"email": self.email, "role": self.role or _("Basic user")}

    def run(self, ctx: Context) -> str:
        require(ctx.actor, Action.CREATE, SystemModule.USERS)  # as the console's invitation page asks
        basic = Role.objects.get(key=BuiltinRole.BASIC, builtin=True)
        role = ctx.role(self.role) or basic
        for key, mask in role_services.matrix_of(role).items():
            require_scope(ctx.actor, mask, key)  # nobody hands out more than they hold (AZ-6), as the console
        escalates = role_escalates(role)  # console rights: invited as a basic user, the role waits for approval
        user = account_services.invite_user(
            tenant=ctx.tenant,
            email=self.email,
            role=basic if escalates else role,
            actor=ctx.actor,
            full_name=self.full_name,
        )
        ctx.users[self.email] = user
        outcome = APPLIED
        if escalates:
            outcome = _outcome(role_services.change_user_role(user, role, actor=ctx.actor, reason=_("Import")))
        if self.organisation:
            organisation_services.set_user_organisation(user, ctx.organisation(self.organisation), actor=ctx.actor)
        return outcome

    def effects(self, ctx: Context) -> list:
        return [(self.email, _matrix_changes(ctx, ctx.matrix(self.role or BuiltinRole.BASIC)), [])]


@dataclass
class UpdateUser:
    where: object
    user: object
    role: str = ""
    organisation: str | None = None
    deactivate: bool = False
    kind = "user"

    @classmethod
    def of(cls, where, user, tenant, data: dict):
        """The change a row asks of an existing user, or None when it holds already."""
        role = data["role"].strip()
        target = tenant.roles.get(role.lower()) if role else None
        if target is not None and (target.pk == user.role_id or _awaits_approval(user, target)):
            role = ""
        organisation = data["organisation"].strip()
        current = user.organisation.name if user.organisation_id else ""
        moved = organisation if organisation and organisation.lower() != current.lower() else None
        deactivate = not data["active"] and user.is_active
        if not (role or moved or deactivate):
            return None
        return cls(where, user, role, moved, deactivate)

    def summary(self) -> str:
        parts = []
        if self.role:
            parts.append(_("role %(role)s") % {"role": self.role})
        if self.organisation:
            parts.append(_("organisation %(name)s") % {"name": self.organisation})
        if self.deactivate:
            parts.append(_("deactivated"))
        return _("Change %(email)s: %(changes)s") % {"email": self.user.email, "changes": ", ".join(parts)}

    def run(self, ctx: Context) -> str:
        outcome = APPLIED
        if self.role:
            outcome = _outcome(
                role_services.change_user_role(self.user, ctx.role(self.role), actor=ctx.actor, reason=_("Import"))
            )
        if self.organisation:
            organisation_services.set_user_organisation(self.user, ctx.organisation(self.organisation), actor=ctx.actor)
        if self.deactivate:
            account_services.deactivate_user(self.user, actor=ctx.actor, reason=_("Import"))
        return outcome

    def effects(self, ctx: Context) -> list:
        if self.deactivate:
            return [(self.user.email, [], [_("all access (deactivated)")])]
        if self.role:
            return _impact_rows(preview.preview_users_to_matrix([self.user], ctx.matrix(self.role)))
        return []


@dataclass
class CreateGrant:
    where: object
    email: str
    module: object
    mask: int
    expires_at: object
    reason: str
    kind = "grant"

    def summary(self) -> str:
        actions = ", ".join(str(a.label) for a in actions_of(self.mask))
        return _("Grant %(email)s %(actions)s on %(module)s") % {
            "email": self.email,
            "actions": actions,
            "module": self.module.display_name,
        }

    def run(self, ctx: Context) -> str:
        result = grant_services.grant(
            actor=ctx.actor,
            module=self.module,
            actions=[a.value for a in actions_of(self.mask)],
            reason=self.reason,
            user=ctx.user(self.email),
            expires_at=self.expires_at,
            reference="import",
        )
        return _outcome(result)

    def effects(self, ctx: Context) -> list:
        user = ctx.known.user(self.email)
        if user is None:
            return [(self.email, _changes(self.module, self.mask), [])]
        gained = [a for a in actions_of(self.mask) if not engine.can(user, a, self.module)]
        return [(self.email, [str(preview.Change(self.module.key, a, self.module.display_name)) for a in gained], [])]
