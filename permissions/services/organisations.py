"""Organisations (customer companies): create, rename, suspend or reactivate, move under a parent; put a
user in one; make one the owner of a resource. Each one use case, one transaction, one audit event, and
a bump of the authorization version (sharing rules read organisations).

Rights: managing organisations needs groups: create / change (an organisation is the customer company a
group used to stand for); a user's organisation needs users: change and outranking the user (it changes
what they may see); a resource's owner organisation needs modules: change (like its owner).

Joining an organisation gives its members what the tenant's sharing rules give them, so it passes the one
check of every change that gives access (``gates.enforce``: separation of duties, required lessons), the
records a rule gives counting as their module's actions, as a grant on one record does."""

from __future__ import annotations

import copy

from django.db import transaction

import audit
from accounts.organisations import MAX_DEPTH, Organisation, ancestors
from audit.events import EventType
from permissions.models import Module, Resource, SharingRule
from permissions.services import gates
from permissions.services.checks import require, same_tenant
from permissions.services.errors import AccessRefused, ErrorCode
from permissions.services.hierarchy import require_outranks
from permissions.versioning import bump, current_version
from permissions.vocabulary import Action, SystemModule


def _actor_in(actor, tenant_id) -> None:
    if actor is not None and actor.tenant_id != tenant_id:
        raise AccessRefused(ErrorCode.CROSS_TENANT)


def _clean_name(name) -> str:
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise AccessRefused(ErrorCode.INVALID, "an organisation needs a name (at most 200 characters)")
    return name


def _check_unique(tenant_id, *, name=None, external_id=None, exclude=None) -> None:
    rows = Organisation.objects.filter(tenant_id=tenant_id).exclude(pk=exclude)
    if name is not None and rows.filter(name=name).exists():
        raise AccessRefused(ErrorCode.INVALID, "choose another name")
    if external_id and rows.filter(external_id=external_id).exists():
        raise AccessRefused(ErrorCode.INVALID, "that external id is taken")


def _depth_below(org_id) -> int:
    """How many levels ``org_id``'s subtree has (1: no children)."""
    level, depth = [org_id], 0
    while level:
        depth += 1
        level = list(Organisation.objects.filter(parent_id__in=level).values_list("pk", flat=True))
    return depth


def _check_parent(tenant_id, parent, moving=None) -> None:
    if parent is None:
        return
    same_tenant(tenant_id, parent)
    parents = dict(Organisation.objects.filter(tenant_id=tenant_id).values_list("pk", "parent_id"))
    chain = ancestors(parents, parent.pk)
    if moving is not None and moving.pk in chain:
        raise AccessRefused(ErrorCode.INVALID, "an organisation cannot sit under itself or its own descendant")
    height = _depth_below(moving.pk) if moving is not None else 1
    if len(chain) + height > MAX_DEPTH:
        raise AccessRefused(ErrorCode.INVALID, f"organisations nest at most {MAX_DEPTH} levels deep")


@transaction.atomic
def create_organisation(*, actor, tenant, name: str, external_id: str = "", parent=None) -> Organisation:
    """A new, active organisation. Needs groups: create."""
    _actor_in(actor, tenant.pk)
    require(actor, Action.CREATE, "groups")
    name, external_id = _clean_name(name), (external_id or "").strip() or None
    _check_unique(tenant.pk, name=name, external_id=external_id)
    _check_parent(tenant.pk, parent)
    org = Organisation.objects.create(tenant=tenant, name=name, external_id=external_id, parent=parent)
    org.resource = Resource.objects.create(
        tenant=tenant,
        module=Module.objects.get(key=SystemModule.GROUPS),
        title=name,
        external_id=f"organisation:{org.pk}",
    )
    org.save(update_fields=["resource"])
    bump(tenant.pk)
    audit.record(
        EventType.ORGANISATION_CREATED,
        tenant=tenant,
        actor=actor,
        target=org,
        after={"name": name, "external_id": external_id, "parent": parent.pk if parent else None},
    )
    return org


def _locked(org: Organisation, actor) -> Organisation:
    _actor_in(actor, org.tenant_id)
    require(actor, Action.CHANGE, "groups")
    return Organisation.objects.select_for_update().get(pk=org.pk)


@transaction.atomic
def rename_organisation(org: Organisation, *, actor, name: str, external_id: str | None = None) -> Organisation:
    """A new name (and, when given, external id). Needs groups: change."""
    org = _locked(org, actor)
    name = _clean_name(name)
    external_id = org.external_id if external_id is None else (external_id.strip() or None)
    if (name, external_id) == (org.name, org.external_id):
        return org
    _check_unique(org.tenant_id, name=name, external_id=external_id, exclude=org.pk)
    before = {"name": org.name, "external_id": org.external_id}
    org.name, org.external_id = name, external_id
    org.save(update_fields=["name", "external_id"])
    if org.resource_id:
        Resource.objects.filter(pk=org.resource_id).update(title=name)
    audit.record(
        EventType.ORGANISATION_RENAMED,
        tenant=org.tenant,
        actor=actor,
        target=org,
        before=before,
        after={"name": name, "external_id": external_id},
    )
    return org


@transaction.atomic
def set_organisation_status(org: Organisation, *, actor, status: str, reason: str = "") -> Organisation:
    """Suspend (its members lose what sharing rules give them) or reactivate. Needs groups: change."""
    org = _locked(org, actor)
    if status not in Organisation.Status.values:
        raise AccessRefused(ErrorCode.INVALID, "unknown status")
    if org.status == status:
        return org
    before = org.status
    org.status = status
    org.save(update_fields=["status"])
    bump(org.tenant_id)
    audit.record(
        EventType.ORGANISATION_STATUS_CHANGED,
        tenant=org.tenant,
        actor=actor,
        target=org,
        before={"status": before},
        after={"status": status},
        reason=reason,
    )
    return org


@transaction.atomic
def reparent_organisation(org: Organisation, *, actor, parent) -> Organisation:
    """Move ``org`` under ``parent`` (None: a root); no cycles, at most MAX_DEPTH levels. Needs groups: change."""
    org = _locked(org, actor)
    if (parent.pk if parent else None) == org.parent_id:
        return org
    _check_parent(org.tenant_id, parent, moving=org)
    before = org.parent_id
    org.parent = parent
    org.save(update_fields=["parent"])
    bump(org.tenant_id)
    audit.record(
        EventType.ORGANISATION_REPARENTED,
        tenant=org.tenant,
        actor=actor,
        target=org,
        before={"parent": before},
        after={"parent": parent.pk if parent else None},
    )
    return org


def membership_gain(user, organisation) -> gates.Gain:
    """What joining ``organisation`` gives ``user``: the module actions of every live sharing rule that
    reaches them as its member (``own``, ``partner``, the organisation's ``criteria`` rules; not the
    criteria rules they hold by role, which they have already). Nothing for none or a suspended one."""
    from permissions import sharing

    bits: dict[int, int] = {}
    if organisation is not None and organisation.is_active:
        known = sharing.tenant_rules(user.tenant_id, current_version(user.tenant_id))
        if known.rules:
            orgs = known.orgs if organisation.pk in known.orgs else {**known.orgs, organisation.pk: organisation}
            joined = copy.copy(user)
            joined.organisation_id = organisation.pk
            index = known.index if orgs is known.orgs else None
            for clause in sharing.clauses_for(joined, known.rules, orgs, index):
                rule = clause.rule
                if rule.kind == SharingRule.Kind.CRITERIA and rule.organisation_id != organisation.pk:
                    continue  # given by the role, member or not
                bits[clause.module_id] = bits.get(clause.module_id, 0) | clause.bits
    return gates.Gain(users=[user], bits=bits)


@transaction.atomic
def set_user_organisation(user, organisation, *, actor, reason: str = ""):
    """Put ``user`` in ``organisation`` (None: in none). Needs users: change and outranking the user; what
    the sharing rules give a member passes the gates (a separation-of-duties rule refuses it, naming the
    rule; there is no four-eyes path, so a rule allowing exceptions refuses it too unless an exception for
    this person and rule was approved before)."""
    if actor is not None:
        same_tenant(actor.tenant_id, user, organisation)
    same_tenant(user.tenant_id, organisation)
    require(actor, Action.CHANGE, "users")
    require_outranks(actor, user)
    locked = type(user).objects.select_for_update().get(pk=user.pk)
    new = organisation.pk if organisation else None
    if locked.organisation_id == new:
        return locked
    if organisation is not None:
        gates.enforce(membership_gain(locked, organisation))
    before = locked.organisation_id
    locked.organisation = organisation
    locked.save(update_fields=["organisation"])  # User.save bumps the authorization version
    bump(user.tenant_id)
    audit.record(
        EventType.USER_ORGANISATION_CHANGED,
        tenant=locked.tenant,
        actor=actor,
        target=locked,
        before={"organisation": before},
        after={"organisation": new},
        reason=reason,
    )
    user.organisation = organisation
    return locked


@transaction.atomic
def set_resource_organisation(resource: Resource, organisation, *, actor, reason: str = "") -> Resource:
    """Make ``organisation`` (or None) the owner organisation of ``resource``. Needs modules: change."""
    if actor is not None:
        same_tenant(actor.tenant_id, resource, organisation)
    same_tenant(resource.tenant_id, organisation)
    require(actor, Action.CHANGE, "modules")
    locked = Resource.objects.select_for_update().get(pk=resource.pk)
    new = organisation.pk if organisation else None
    if locked.owner_organisation_id == new:
        return locked
    before = locked.owner_organisation_id
    locked.owner_organisation = organisation
    locked.save(update_fields=["owner_organisation", "updated_at"])
    bump(resource.tenant_id)
    audit.record(
        EventType.RESOURCE_ORGANISATION_CHANGED,
        tenant=locked.tenant,
        actor=actor,
        target=locked,
        before={"organisation": before},
        after={"organisation": new},
        reason=reason,
    )
    resource.owner_organisation = organisation
    return locked
