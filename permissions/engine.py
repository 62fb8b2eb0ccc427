"""The permission engine: the one door for access decisions.

Four questions (Wagtail's policy object, NetBox's restricted querysets):

- ``can(user, action, target)``: may the user do it? ``target`` is a module key, a ``Module`` or a
  ``Resource``.
- ``explain(user, action, target)``: every path that gives access, or why not.
- ``visible(user, action, queryset)``: the queryset filtered to what the user may act on, in one SQL
  statement that composes with the caller's filters, ordering and pagination.
- ``holders(action, target)``: who can, each with their paths (what an access review asks).

Effective access = role matrix ∪ group grants ∪ direct grants, inside the user's tenant, not expired
at this instant, for an active user. There are no deny rules. A user of another tenant, an inactive
user, a platform operator or an anonymous user can do nothing here.

Caching: a compiled set per (tenant, user, tenant authz version) lives in this process (see
``permissions.versioning``: the version is a database row raised in the transaction of every change, so
a change elsewhere is seen on the next request whatever the cache does); a set, and each resource answer
in it, is valid only until the earliest expiry of the grants it was built from, and at most
``compiled.MAX_SET_SECONDS``.
"""

from __future__ import annotations

import time

from django.db.models import QuerySet
from django.utils import timezone

from permissions import planner, sharing, sod
from permissions.compiled import MAX_BATCH_USERS, Compiled, load, load_many
from permissions.explaining import Explanation, Path, PathKind, explain, holders
from permissions.models import Module, Resource
from permissions.versioning import current_version
from permissions.vocabulary import BITS, Action

__all__ = [
    "Explanation",
    "Path",
    "PathKind",
    "can",
    "clear_process_cache",
    "compiled_for",
    "explain",
    "holders",
    "module_actions",
    "prefetch",
    "prefetch_many",
    "visible",
    "warm",
]

MAX_USERS = 20_000
_sets: dict[tuple[int, int], Compiled] = {}


#: Other per-process caches of authorization data that follow the version (apps add theirs in ready()).
CACHES_TO_CLEAR: list = []


def clear_process_cache() -> None:
    """Forget every compiled set of this process (tests, benchmarks)."""
    _sets.clear()
    sharing.clear()
    sod.clear()
    for clear in CACHES_TO_CLEAR:
        clear()


def forget_users() -> None:
    """Forget every user's compiled set and clauses, keeping the tenants' rules read at their current
    version (benchmarks: a user not seen by this process since the tenant's last change)."""
    _sets.clear()
    sharing.forget_profiles()


def _fresh(user, resource_id=None) -> Compiled:
    """The user's valid compiled set; a rebuild also loads ``resource_id``'s rows (still one query)."""
    tenant_id = user.tenant_id  # read once: a foreign key's attribute is a Python-level descriptor
    key = (tenant_id, user.pk)
    version = current_version(tenant_id)
    entry = _sets.get(key)
    if (
        entry is not None
        and entry.version == version
        and entry.role_id == user.role_id
        and time.time() < entry.valid_until
    ):
        return entry
    entry = load(user, version, timezone.now(), resource_ids=() if resource_id is None else (resource_id,))
    _store(key, entry)
    return entry


def _store(key: tuple[int, int], entry: Compiled) -> None:
    if len(_sets) >= MAX_USERS:
        # Evict the oldest entry (insertion order): bounded memory, no shared entries (AZ-8).
        try:
            _sets.pop(next(iter(_sets)), None)
        except (RuntimeError, StopIteration):  # another thread changed the dict meanwhile
            pass
    _sets[key] = entry


def prefetch_many(users, resources=()) -> None:
    """Compile several users' sets, with their answers on ``resources``, in one query per tenant (and
    per 200 users): for lists that show what each of many people holds (the approval queue), so the
    page costs the same number of queries whatever its length."""
    by_tenant: dict[int, dict[int, object]] = {}
    for user in users:
        if user is not None and getattr(user, "is_active", False) and getattr(user, "tenant_id", None):
            by_tenant.setdefault(user.tenant_id, {})[user.pk] = user
    now = timezone.now()
    for tenant_id, members in by_tenant.items():
        version = current_version(tenant_id)
        sharing.tenant_rules(tenant_id, version)
        resource_ids = [r.pk for r in resources if r is not None and r.tenant_id == tenant_id]
        people = list(members.values())
        for start in range(0, len(people), MAX_BATCH_USERS):
            loaded = load_many(people[start : start + MAX_BATCH_USERS], version, now, resource_ids=resource_ids)
            for user_id, entry in loaded.items():
                _store((tenant_id, user_id), entry)


def warm(users, resources) -> None:
    """Make ``can`` of each of ``users`` on each of ``resources`` answer from memory: the users whose set is
    stale or lacks an answer on one of them are compiled again, with those answers, in one query per
    tenant (and per 200 users). For a batch of checks: a query per batch instead of one per check. A
    complete set (``compiled.Compiled.complete``) that is still valid lacks nothing."""
    now = time.time()
    ids = [(r.tenant_id, r.pk) for r in resources]
    needing = []
    for user in users:
        if user is None or not getattr(user, "is_active", False) or getattr(user, "tenant_id", None) is None:
            continue
        entry = _sets.get((user.tenant_id, user.pk))
        if (
            entry is None
            or entry.version != current_version(user.tenant_id)
            or entry.role_id != user.role_id
            or now >= entry.valid_until
            or (
                not entry.complete
                and any(t == user.tenant_id and entry.resource_bits(pk, now) is None for t, pk in ids)
            )
        ):
            needing.append(user)
    if needing:
        prefetch_many(needing, resources)


def compiled_for(user) -> Compiled | None:
    """The user's current compiled set (None for users who can do nothing here)."""
    if user is None or not getattr(user, "is_active", False) or getattr(user, "tenant_id", None) is None:
        return None
    return _fresh(user)


def _resource_bits(user, entry: Compiled, resource_id: int) -> int:
    bits = entry.resource_bits(resource_id, time.time())
    if bits is None:
        load(user, entry.version, timezone.now(), compiled=entry, resource_ids=[resource_id])
        bits = entry.resources[resource_id][0]
    return bits


def can(user, action, target) -> bool:
    """True when ``user`` may do ``action`` on ``target`` (a module key, a Module or a Resource), now."""
    tenant_id = getattr(user, "tenant_id", None)
    if tenant_id is None or not user.is_active:
        return False
    bit = BITS[action]
    if isinstance(target, Resource):
        if target.tenant_id != tenant_id:
            return False
        entry = _fresh(user, target.pk)
        if entry.modules.get(target.module_id, 0) & bit:
            return True
        if _resource_bits(user, entry, target.pk) & bit:
            return True
        return sharing.allows(user, entry, target, bit)
    entry = _fresh(user)
    if isinstance(target, Module):
        if target.tenant_id != tenant_id:
            return False
        return bool(entry.modules.get(target.pk, 0) & bit)
    module_id = entry.keys.get(target)
    if module_id is None:
        return False
    return bool(entry.modules.get(module_id, 0) & bit)


def module_actions(user, module) -> list[Action]:
    """The actions ``user`` holds on the whole module (a key or a Module), in vocabulary order."""
    entry = compiled_for(user)
    if entry is None:
        return []
    module_id = module.pk if isinstance(module, Module) else entry.keys.get(module)
    if isinstance(module, Module) and module.tenant_id != user.tenant_id:
        return []
    bits = entry.modules.get(module_id, 0)
    return [action for action in Action if bits & BITS[action]]


def prefetch(user, resources) -> None:
    """Load the user's object-level answers for a page of resources in one query (no N+1)."""
    entry = compiled_for(user)
    if entry is None:
        return
    now = time.time()
    missing = [r.pk for r in resources if r.tenant_id == user.tenant_id and entry.resource_bits(r.pk, now) is None]
    if missing:
        load(user, entry.version, timezone.now(), compiled=entry, resource_ids=missing)


def visible(user, action, queryset: QuerySet) -> QuerySet:
    """``queryset`` (of Resources or Modules) narrowed to what ``user`` may ``action``, in one statement.

    The result is the caller's queryset with one more filter: it keeps their filters, ordering and
    slicing. Resources come through a whole-module right (role or module grant) or through object rows
    (the user's, or one of their groups'), not expired now. Whole modules the caller's filter already
    excludes are left out, and a filter inside modules the user holds wholesale adds nothing.
    The first list of a user at a version may also read a bounded count of their object rows, which
    picks the plan (``permissions.planner``); each page is then one statement.
    """
    entry = compiled_for(user)
    if entry is None:
        return queryset.none()
    bit = BITS[action]
    queryset = queryset.filter(tenant_id=user.tenant_id)
    whole = sorted(module_id for module_id, bits in entry.modules.items() if bits & bit)
    if queryset.model is Module:
        return queryset.filter(pk__in=whole)
    if queryset.model is not Resource:
        raise TypeError(f"visible() filters Resource or Module querysets, not {queryset.model.__name__}")
    extra = sharing.condition(user, entry, bit, planner.module_filter(queryset))
    return planner.narrow(queryset, entry, user, bit, whole, extra=extra)
