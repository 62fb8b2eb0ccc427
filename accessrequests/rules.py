"""Who may decide a request, what the requester holds now, and how risky a request is."""

from __future__ import annotations

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from permissions import engine
from permissions.models import Module
from permissions.vocabulary import Action, ModuleKind, SystemModule


def allowed_durations(tenant) -> list[int]:
    """The duration presets (days) the tenant allows: the presets up to request_max_days, and the maximum."""
    from accessrequests.models import DURATION_PRESETS

    cap = tenant.request_max_days
    days = [d for d in DURATION_PRESETS if d <= cap]
    if cap not in days and cap < DURATION_PRESETS[-1]:
        days.append(cap)
    return sorted(days)


def default_duration(tenant) -> int:
    """Two weeks, or the tenant's maximum when that is shorter."""
    from accessrequests.models import DEFAULT_DURATION

    return min(DEFAULT_DURATION, tenant.request_max_days)


def is_administrator_approver(user) -> bool:
    """The tenant's administrators: whoever holds approve on the requests system module."""
    return engine.can(user, Action.APPROVE, SystemModule.REQUESTS)


def owned_module_ids(user) -> set[int]:
    """Modules of which ``user`` is an owner."""
    return set(Module.objects.filter(owners=user).values_list("pk", flat=True))


def managed_trees(user) -> dict[int, frozenset[int]]:
    """For an organisation administrator: each organisation they manage ("organisation: manage", i.e.
    groups: change on its row) → it and the organisations below it. Empty for everyone else. Kept on the
    user object for the authorization version (a request's menu, queue and page ask it several times)."""
    from accounts.organisations import Organisation
    from permissions.services.delegated import managed_organisations
    from permissions.versioning import current_version

    version = current_version(user.tenant_id)
    memo = getattr(user, "_managed_trees", None)
    if memo is not None and memo[0] == version:
        return memo[1]
    trees = {}
    for org_id in managed_organisations(user).values_list("pk", flat=True):
        found, level = {org_id}, [org_id]
        while level:  # one query per level (at most MAX_DEPTH)
            below = Organisation.objects.filter(parent_id__in=level).values_list("pk", flat=True)
            level = [o for o in below if o not in found]
            found.update(level)
        trees[org_id] = frozenset(found)
    user._managed_trees = (version, trees)
    return trees


def organisation_requests(user) -> Q | None:
    """The requests an organisation administrator decides: of a member of an organisation they manage, for
    one record of a business or custom module that this organisation (or one below it) owns. None when
    they manage no organisation."""
    parts = None
    for org_id, tree in managed_trees(user).items():
        part = Q(requester__organisation_id=org_id, resource__owner_organisation_id__in=tree)
        parts = part if parts is None else parts | part
    if parts is None:
        return None
    return parts & ~Q(module__kind=ModuleKind.SYSTEM) & Q(resource__isnull=False)


def decides_for_organisation(user, request) -> bool:
    """``request`` is in ``organisation_requests(user)`` (checked on the row, no query but the trees)."""
    if not request.resource_id or request.module.is_system:
        return False
    tree = managed_trees(user).get(request.requester.organisation_id)
    return tree is not None and request.resource.owner_organisation_id in tree


def is_approver(user, request) -> bool:
    """Administrators, the resource's owner, the module's owners and, for their members' requests for their
    organisation's records, organisation administrators; never the requester."""
    if user is None or user.pk == request.requester_id or user.tenant_id != request.tenant_id:
        return False
    if is_administrator_approver(user):
        return True
    if request.resource_id and request.resource.owner_id == user.pk:
        return True
    return request.module_id in owned_module_ids(user) or decides_for_organisation(user, request)


def _approver_q(user) -> Q:
    """The requests ``user`` decides as an owner or an organisation administrator (not as administrator)."""
    query = Q(module_id__in=owned_module_ids(user)) | Q(resource__owner=user)
    organisation = organisation_requests(user)
    return query | organisation if organisation is not None else query


def readable(user, queryset):
    """The requests ``user`` may read: their own and those they may decide; every request of the tenant
    for administrators (approve) and holders of requests: view."""
    if is_administrator_approver(user) or engine.can(user, Action.VIEW, SystemModule.REQUESTS):
        return queryset
    return queryset.filter(Q(requester=user) | _approver_q(user))


def decidable(user, queryset, now=None):
    """The approval queue: pending, unexpired requests that ``user`` may decide (never their own)."""
    from accessrequests.models import AccessRequest

    rows = queryset.filter(status=AccessRequest.Status.PENDING, pending_until__gt=now or timezone.now()).exclude(
        requester=user
    )
    if not is_administrator_approver(user):
        rows = rows.filter(_approver_q(user))
    return rows


def may_approve_anything(user) -> bool:
    """Whether the approval queue concerns ``user`` at all (menu entry)."""
    from permissions.models import Resource

    if is_administrator_approver(user):
        return True
    if Module.objects.filter(owners=user).exists() or Resource.objects.filter(owner=user).exists():
        return True
    return bool(managed_trees(user))


def prepare_current(requests) -> None:
    """Load what every requester of a page holds in one query (``current_actions`` then asks no more)."""
    engine.prefetch_many([r.requester for r in requests], [r.resource for r in requests if r.resource_id])


def current_actions(user, module, resource=None) -> list[Action]:
    """What ``user`` holds now on the module, or on the resource (module-wide rights included)."""
    applicable = module.applicable_actions
    if resource is None:
        held = set(engine.module_actions(user, module))
        return [a for a in applicable if a in held]
    return [a for a in applicable if engine.can(user, a, resource)]


def risks(request) -> list:
    """Flags for the approver: a console (system-module) action, sensitive data."""
    flags = []
    if request.is_system:
        flags.append(_("System module: needs two approvers and a fresh MFA check"))
    if request.is_sensitive:
        flags.append(_("Sensitive data"))
    return flags


def approval_limit(request) -> int:
    """The longest an approver may grant: what was asked (or a first approver allowed), within the
    tenant's maximum now."""
    return min(request.granted_days or request.duration_days, request.tenant.request_max_days)
