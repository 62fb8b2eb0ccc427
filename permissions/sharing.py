"""Sharing rules in the engine: what the rules of a tenant give one user, and who they give it to.

Called by the engine at one point per question (``can``, ``visible``, ``explain``, ``holders``); the
rules themselves are ``permissions.models.SharingRule``. For a user, the tenant's live rules become
*clauses*: (module, action bits, owner organisations or None, attribute criterion or None, rule). A
resource matches a clause when it is of the module, its owner organisation is in the set (when there is
one) and its non-sensitive attribute equals the criterion's value (when there is one).

- ``own``: for a member of an active organisation O: owner ∈ {O} (∪ O's descendants with
  ``include_children``).
- ``partner``: for a member of the rule's (active) organisation: owner = the target organisation.
- ``criteria``: for a member of the rule's (active) organisation, or a holder of the rule's role:
  ``attributes[key] == value`` (a JSON string, exactly).

The clauses are built once per compiled set (one query for the rules and the organisations) and kept
until the set is rebuilt or the earliest rule expiry, whichever comes first. Rules never give access
to a whole module, only to records.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db.models import JSONField, Q, Value
from django.db.models.fields.json import KeyTransform
from django.utils import timezone

from accounts.organisations import Organisation, ancestors, descendants
from permissions.compiled import MAX_SET_SECONDS
from permissions.lookups import IdList
from permissions.models import Module, Resource, SharingRule
from permissions.versioning import has_had_sharing_rules

MAX_PROFILES = 20_000


@dataclass(frozen=True)
class Clause:
    """What one rule gives one user."""

    module_id: int
    bits: int
    owners: frozenset[int] | None
    criterion: tuple[str, str] | None
    rule: SharingRule
    owner_list: IdList = IdList()  # ``owners`` for SQL, its literal written once per clause, not per page


@dataclass
class Profile:
    """A user's clauses, valid while the compiled set it was built for is the current one."""

    entry: object
    clauses: tuple[Clause, ...]
    sensitive: dict[int, frozenset[str]]
    valid_until: float
    organisation: Organisation | None
    by_module: dict[int, tuple[Clause, ...]] = field(default_factory=dict)  # the clauses, per module

    def __post_init__(self):
        for clause in self.clauses:
            self.by_module[clause.module_id] = (*self.by_module.get(clause.module_id, ()), clause)


@dataclass
class TenantRules:
    """A tenant's live rules, organisations and sensitive attribute names at one authorization version."""

    version: object
    rules: list[SharingRule]
    orgs: dict[int, Organisation]
    sensitive: dict[int, frozenset[str]]
    valid_until: float
    index: RuleIndex | None = None


class RuleIndex:
    """A tenant's rules by whom they can concern, and its organisation tree, built once per version: a
    user's clauses then read the few rules that can name them, not all of the tenant's (1,000 partner rules)."""

    def __init__(self, rules, orgs: dict[int, Organisation]):
        self.rules = rules
        self.position = {id(rule): n for n, rule in enumerate(rules)}
        self.own = [r for r in rules if r.kind == SharingRule.Kind.OWN]
        self.by_org: dict[int, list[SharingRule]] = {}
        self.by_role: dict[int, list[SharingRule]] = {}
        for rule in rules:
            if rule.kind != SharingRule.Kind.OWN and rule.organisation_id is not None:
                self.by_org.setdefault(rule.organisation_id, []).append(rule)
            if rule.kind == SharingRule.Kind.CRITERIA and rule.role_id is not None:
                self.by_role.setdefault(rule.role_id, []).append(rule)
        self.parents = {ident: org.parent_id for ident, org in orgs.items()}
        self._below: dict[int, frozenset[int]] = {}
        self._lists: dict[frozenset[int], IdList] = {}

    def candidates(self, user, member) -> list[SharingRule]:
        """The rules that can give ``user`` anything, in the tenant's order."""
        found = {id(r): r for r in self.own} if member is not None else {}
        if member is not None:
            found.update((id(r), r) for r in self.by_org.get(member.pk, ()))
        found.update((id(r), r) for r in self.by_role.get(user.role_id, ()))
        return sorted(found.values(), key=lambda rule: self.position[id(rule)])

    def id_list(self, owners: frozenset[int]) -> IdList:
        """``owners`` as an ``IdList``, shared by every member's clause (memoised for the version)."""
        known = self._lists.get(owners)
        if known is None:
            known = self._lists[owners] = IdList(owners)
        return known

    def below(self, root: int) -> frozenset[int]:
        """``root`` and its descendants (memoised for the version)."""
        known = self._below.get(root)
        if known is None:
            known = self._below[root] = frozenset(descendants(self.parents, root))
        return known


_profiles: dict[tuple[int, int], Profile] = {}
_tenants: dict[int, TenantRules] = {}


def clear() -> None:
    """Forget every tenant's rules and user's clauses (tests)."""
    _profiles.clear()
    _tenants.clear()


def forget_profiles() -> None:
    """Forget every user's clauses, keeping the tenants' rules (``engine.forget_users``)."""
    _profiles.clear()


def _rows(model, tenant_id):
    # Explicit tenant filter: the engine also runs in jobs and reviews, outside a request scope.
    return model._base_manager.filter(tenant_id=tenant_id)


def live_rules(tenant_id: int, now, module_id: int | None = None) -> list[SharingRule]:
    """The tenant's rules that work at ``now`` (of one module when ``module_id`` is given)."""
    query = Q(expires_at__isnull=True) | Q(expires_at__gt=now)
    if module_id is not None:
        query &= Q(module_id=module_id)
    return list(_rows(SharingRule, tenant_id).filter(query).select_related("organisation", "target_organisation"))


def tree(tenant_id: int) -> dict[int, Organisation]:
    """The tenant's organisations by id."""
    return {org.pk: org for org in _rows(Organisation, tenant_id)}


def branch(tenant_id: int, ids) -> dict[int, Organisation]:
    """The organisations ``ids`` and every one above them, by id: what a question about one record needs of
    the tree (whether its owner lies under a member's organisation), not the tenant's 10,000 organisations.
    One query per level (at most ``MAX_DEPTH``)."""
    found: dict[int, Organisation] = {}
    wanted = {ident for ident in ids if ident is not None}
    while wanted:
        for org in _rows(Organisation, tenant_id).filter(pk__in=wanted):
            found[org.pk] = org
        wanted = {org.parent_id for org in found.values() if org.parent_id is not None} - set(found)
    return found


def tenant_rules(tenant_id: int, version) -> TenantRules:
    """The tenant's rules at ``version`` (the compiled sets' version): read once per version and process,
    kept at most ``MAX_SET_SECONDS`` and never past the earliest expiry of a rule read."""
    cached = _tenants.get(tenant_id)
    if cached is not None and cached.version == version and time.time() < cached.valid_until:
        return cached
    if not has_had_sharing_rules(tenant_id, version[0]):  # the version row said so: no query
        return TenantRules(version, [], {}, {}, time.time() + MAX_SET_SECONDS)
    rules = live_rules(tenant_id, timezone.now())
    orgs = tree(tenant_id) if rules else {}
    modules = {r.module_id for r in rules if r.kind == SharingRule.Kind.CRITERIA}
    sensitive = {m.pk: frozenset(m.sensitive_attributes or ()) for m in _rows(Module, tenant_id).filter(pk__in=modules)}
    expiries = [r.expires_at.timestamp() for r in rules if r.expires_at]
    valid_until = min([time.time() + MAX_SET_SECONDS, *expiries])
    result = TenantRules(version, rules, orgs, sensitive, valid_until, RuleIndex(rules, orgs))
    _tenants[tenant_id] = result
    return result


def clauses_for(user, rules, orgs: dict[int, Organisation], index: RuleIndex | None = None) -> list[Clause]:
    """What ``rules`` give ``user`` (active, of the rules' tenant), given the tenant's organisations (and
    their ``index``, when the caller keeps one)."""
    index = index if index is not None else RuleIndex(rules, orgs)
    mine = orgs.get(user.organisation_id) if user.organisation_id else None
    member = mine if mine is not None and mine.is_active else None
    found = []
    for rule in index.candidates(user, member):
        clause = _clause(rule, user, member, index)
        if clause is not None:
            found.append(clause)
    return found


def _clause(rule, user, member, index: RuleIndex) -> Clause | None:
    owners, criterion = None, None
    if rule.kind == SharingRule.Kind.OWN:
        if member is None:
            return None
        owners = index.below(member.pk) if rule.include_children else frozenset({member.pk})
    elif rule.kind == SharingRule.Kind.PARTNER:
        if member is None or rule.organisation_id != member.pk or rule.target_organisation_id is None:
            return None
        owners = frozenset({rule.target_organisation_id})
    elif rule.kind == SharingRule.Kind.CRITERIA:
        by_org = member is not None and rule.organisation_id == member.pk
        by_role = rule.role_id is not None and rule.role_id == user.role_id
        if not (by_org or by_role) or not rule.attribute_key:
            return None
        criterion = (rule.attribute_key, rule.attribute_value)
    else:
        return None
    return Clause(rule.module_id, rule.actions, owners, criterion, rule, index.id_list(owners) if owners else IdList())


def profile(user, entry) -> Profile:
    """``user``'s clauses for the compiled set ``entry`` (no query once the tenant's rules are read)."""
    cached = entry.sharing
    if cached is not None and time.time() < cached.valid_until:
        return cached
    key = (user.tenant_id, user.pk)
    cached = _profiles.get(key)
    if cached is not None and cached.entry is entry and time.time() < cached.valid_until:
        entry.sharing = cached
        return cached
    known = tenant_rules(user.tenant_id, entry.version)
    clauses = tuple(clauses_for(user, known.rules, known.orgs, known.index)) if known.rules else ()
    if len(_profiles) >= MAX_PROFILES:
        _profiles.clear()
    valid_until = min(entry.valid_until, known.valid_until)
    result = Profile(entry, clauses, known.sensitive, valid_until, known.orgs.get(user.organisation_id))
    _profiles[key] = entry.sharing = result
    return result


def _matches(clause: Clause, resource, sensitive: dict[int, frozenset[str]]) -> bool:
    if clause.module_id != resource.module_id:
        return False
    if clause.owners is not None and resource.owner_organisation_id not in clause.owners:
        return False
    if clause.criterion is not None:
        key, value = clause.criterion
        if key in sensitive.get(clause.module_id, ()):
            return False  # sensitive values live encrypted: never a criterion (as in SQL)
        found = (resource.attributes or {}).get(key)
        return isinstance(found, str) and found == value
    return True


@dataclass(frozen=True)
class _Facts:
    module_id: int
    owner_organisation_id: int | None
    attributes: dict


def _facts(resource):
    """What the rules read of ``resource``; a row loaded without them (the check API keeps ``only(id,
    module)`` targets) is read again, fresh, in one query."""
    loaded = resource.__dict__
    if "owner_organisation_id" in loaded and "attributes" in loaded and "module_id" in loaded:
        return resource
    row = (
        Resource._base_manager.filter(tenant_id=resource.tenant_id, pk=resource.pk)
        .values("module_id", "owner_organisation_id", "attributes")
        .first()
    )
    return _Facts(**row) if row else None


def allows(user, entry, resource, bit: int) -> bool:
    """True when a sharing rule gives ``bit`` on ``resource`` to ``user`` (``can``'s last step). No query
    unless the user has a rule for the resource's module (and the row was loaded without its owner)."""
    prof = profile(user, entry)
    clauses = prof.by_module.get(resource.module_id)
    if not clauses:
        return False
    facts = None
    for clause in clauses:
        if clause.bits & bit:
            facts = facts or _facts(resource)
            if facts is None:
                return False
            if _matches(clause, facts, prof.sensitive):
                return True
    return False


def _criterion_q(key: str, value: str) -> Q:
    """``attributes[key]`` is the JSON string ``value`` (the key is never parsed as a lookup; the value is
    a bound parameter)."""
    lhs = KeyTransform(key, "attributes")
    return Q(lhs.get_lookup("exact")(lhs, Value(value, output_field=JSONField())))


def condition(user, entry, bit: int, modules: set[int] | None = None) -> Q | None:
    """The rows the rules give ``bit`` on, as one filter for ``visible()`` (None: the rules give nothing);
    only the clauses of ``modules`` when the caller's queryset is restricted to them."""
    prof = profile(user, entry)
    parts = None
    for c in prof.clauses:
        if not c.bits & bit or (modules is not None and c.module_id not in modules):
            continue
        if c.criterion is not None and c.criterion[0] in prof.sensitive.get(c.module_id, ()):
            continue
        q = Q(module_id=c.module_id)
        if c.owners is not None:
            q &= Q(owner_organisation__any_of=c.owner_list)
        if c.criterion is not None:
            q &= _criterion_q(*c.criterion)
        parts = q if parts is None else parts | q
    return parts


def describe(clause: Clause, organisation: Organisation | None) -> str:
    """The rule in a sentence for the person it gives access to ("because you work for Initech")."""
    from django.utils.translation import gettext as _

    rule = clause.rule
    if clause.criterion is not None and (organisation is None or rule.organisation_id != organisation.pk):
        return _("Sharing rule “%(rule)s”: because of your role") % {"rule": rule.name}
    return _("Sharing rule “%(rule)s”: because you work for %(organisation)s") % {
        "rule": rule.name,
        "organisation": organisation.name if organisation else "",
    }


def holder_rules(resource, bit: int, now) -> list[tuple[SharingRule, object]]:
    """For ``holders``: (rule, users) for every live rule giving ``bit`` on ``resource``; the users are a
    queryset of the tenant's active users (one query per rule kind)."""
    tenant_id = resource.tenant_id
    rules = [r for r in live_rules(tenant_id, now, resource.module_id) if r.actions & bit]
    if not rules:
        return []
    owner = resource.owner_organisation_id
    orgs = branch(tenant_id, [owner, *(r.organisation_id for r in rules)])
    active_orgs = {ident for ident, org in orgs.items() if org.is_active}
    parents = {ident: org.parent_id for ident, org in orgs.items()}
    users = _rows(get_user_model(), tenant_id).filter(is_active=True)
    sensitive = set(_rows(Module, tenant_id).get(pk=resource.module_id).sensitive_attributes or ())
    found = []
    for rule in rules:
        if rule.kind == SharingRule.Kind.OWN and owner is not None:
            orgs_of = set(ancestors(parents, owner)) if rule.include_children else {owner}
            found.append((rule, users.filter(organisation_id__in=orgs_of & active_orgs)))
        elif rule.kind == SharingRule.Kind.PARTNER and owner is not None and rule.target_organisation_id == owner:
            found.append((rule, users.filter(organisation_id__in={rule.organisation_id} & active_orgs)))
        elif rule.kind == SharingRule.Kind.CRITERIA and rule.attribute_key and rule.attribute_key not in sensitive:
            value = (resource.attributes or {}).get(rule.attribute_key)
            if not (isinstance(value, str) and value == rule.attribute_value):
                continue
            who = Q(organisation_id__in={rule.organisation_id} & active_orgs)
            if rule.role_id:
                who |= Q(role_id=rule.role_id)
            found.append((rule, users.filter(who)))
    return found


def explained(user, resource, bit: int, now) -> list[tuple[Clause, str]]:
    """For ``explain``: each rule giving ``bit`` on ``resource`` to ``user`` now, with its sentence
    (read from the rows, not from the cache)."""
    rules = [r for r in live_rules(user.tenant_id, now, resource.module_id) if r.actions & bit]
    if not rules:
        return []
    facts = _facts(resource)
    # The user's organisation and the record owner's line up: enough to tell whether each rule matches it.
    orgs = branch(user.tenant_id, [user.organisation_id, facts.owner_organisation_id if facts else None])
    sensitive = {
        resource.module_id: frozenset(
            _rows(Module, user.tenant_id).get(pk=resource.module_id).sensitive_attributes or ()
        )
    }
    found = [c for c in clauses_for(user, rules, orgs) if facts is not None and _matches(c, facts, sensitive)]
    mine = orgs.get(user.organisation_id)
    return [(c, describe(c, mine)) for c in found]
