"""The one check of every change that gives access (issue 17): separation-of-duties rules and the gates
other apps register (required security lessons, ``training.gate``).

Every path that can give a user rights describes what it gives as a ``Gain`` and calls ``enforce``: direct
and group grants (``grants.validate_grant``, so access-request approvals and pending grants too), group
membership (``groups.add_member``, SCIM and the API included), role changes and role matrix changes
(``roles``), and the pending-change approvals that apply them (``changes._apply``). Paths call it twice: when
the change is asked for (to refuse it, or to queue it for a second administrator when a rule allows
exceptions) and in the writer that applies it (whatever the path, nothing is written that a rule refuses).

A change is refused when it makes a user hold both sides of a rule they did not violate before. A rule that
allows exceptions asks for a justification instead; the change then waits for a second administrator
(``changes.request_change``), whose approval records a ``SodException`` per user and rule.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.translation import gettext as _

import audit
from audit.events import EventType
from permissions import sod
from permissions.compiled import MAX_BATCH_USERS, load_many
from permissions.models import Role, RolePermission, SodException, SodRule
from permissions.services.errors import AccessRefused, ErrorCode
from permissions.versioning import current_version


@dataclass
class Gain:
    """What a change gives: to ``users``, module bits (module id → mask; a grant on one resource counts as
    its module's), a new role for them (``role``), or a new matrix for the role they hold (``matrix``)."""

    users: list
    bits: dict[int, int] = field(default_factory=dict)
    role: Role | None = None
    matrix: dict[int, int] | None = None
    #: For a matrix change: the cells it adds to the role (what its holders newly get).
    added: dict[int, int] | None = None

    def given(self) -> dict[int, int]:
        """The module bits the change gives (module id → mask): what the registered gates judge."""
        if self.added is not None:
            return dict(self.added)
        given = dict(self.bits)
        if self.role is not None:
            for module_id, mask in _matrix_of(self.role.pk).items():
                given[module_id] = given.get(module_id, 0) | mask
        return given


@dataclass(frozen=True)
class Hit:
    """A rule the change would make ``user`` violate."""

    rule: SodRule
    user: object


#: Further checks of a gain (callables taking the Gain, raising AccessRefused); apps register theirs in ready().
GATES: list[Callable[[Gain], None]] = []


def _sets(users, tenant_id, *, without_role: bool) -> dict:
    """Fresh module-level sets of ``users`` (their role left out when ``without_role``), 200 per query."""
    version, now = current_version(tenant_id), timezone.now()
    people = []
    for user in users:
        if without_role:
            user = copy.copy(user)
            user.role_id = None
        people.append(user)
    found = {}
    for start in range(0, len(people), MAX_BATCH_USERS):
        found.update(load_many(people[start : start + MAX_BATCH_USERS], version, now))
    return found


def _matrix_of(role_id) -> dict[int, int]:
    return dict(RolePermission._base_manager.filter(role_id=role_id).values_list("module_id", "actions"))


def _after(gain: Gain, user, now_bits, base_bits) -> tuple[dict[int, int], int | None]:
    """The user's module bits and role once the change is applied."""
    if gain.role is not None or gain.matrix is not None:
        matrix = gain.matrix if gain.matrix is not None else _matrix_of(gain.role.pk)
        bits = dict(base_bits)
        for module_id, mask in matrix.items():
            bits[module_id] = bits.get(module_id, 0) | mask
        role_id = gain.role.pk if gain.role is not None else user.role_id
    else:
        bits, role_id = dict(now_bits), user.role_id
    for module_id, mask in gain.bits.items():
        bits[module_id] = bits.get(module_id, 0) | mask
    return bits, role_id


def conflicts(gain: Gain) -> list[Hit]:
    """The (rule, user) violations the change would create: none when the tenant has no rule (no query)."""
    users = [u for u in gain.users if u is not None]
    if not users:
        return []
    tenant_id = users[0].tenant_id
    rules = sod.tenant_rules(tenant_id)
    if not rules:
        return []
    now_sets = _sets(users, tenant_id, without_role=False)
    role_based = gain.role is not None or gain.matrix is not None
    base_sets = _sets(users, tenant_id, without_role=True) if role_based else now_sets
    hits: list[tuple[int, object]] = []
    for user in users:
        now_bits = now_sets[user.pk].modules
        before = {rule.rule_id for rule in sod.violated(now_bits, user.role_id, rules)}
        bits, role_id = _after(gain, user, now_bits, base_sets[user.pk].modules)
        hits += [(rule.rule_id, user) for rule in sod.violated(bits, role_id, rules) if rule.rule_id not in before]
    if not hits:
        return []
    # Explicit tenant: explain() runs this in jobs and reviews too, outside a request's scope.
    by_id = SodRule._base_manager.filter(tenant_id=tenant_id).in_bulk({rule_id for rule_id, _user in hits})
    return [Hit(by_id[rule_id], user) for rule_id, user in hits]


def _describe(hit: Hit) -> str:
    return _("rule “%(rule)s” (%(severity)s) for %(user)s: %(reason)s") % {
        "rule": hit.rule.name,
        "severity": hit.rule.get_severity_display(),
        "user": hit.user.email,
        "reason": hit.rule.reason,
    }


def enforce(gain: Gain, *, exempt=(), justification: str = "") -> list[Hit]:
    """Refuse a change that creates a violation, or run the registered gates. Returns the hits of rules
    allowing exceptions that ``exempt`` (rule ids approved by a second administrator) does not cover: the
    caller queues the change with ``justification``; without one, they are refused too."""
    hits = conflicts(gain)
    refused = [hit for hit in hits if not hit.rule.allow_exceptions]
    if refused:
        raise AccessRefused(
            ErrorCode.SOD_CONFLICT,
            _("Refused by separation-of-duties %(rules)s.") % {"rules": "; ".join(_describe(hit) for hit in refused)},
        )
    for gate in GATES:
        gate(gain)
    needed = [hit for hit in hits if hit.rule.pk not in set(exempt)]
    if needed:  # an exception already approved for this user and rule stands
        approved = set(
            SodException._base_manager.filter(
                tenant_id=needed[0].rule.tenant_id, rule__in=[hit.rule for hit in needed]
            ).values_list("rule_id", "user_id")
        )
        needed = [hit for hit in needed if (hit.rule.pk, hit.user.pk) not in approved]
    if needed and not (justification or "").strip():
        raise AccessRefused(
            ErrorCode.SOD_EXCEPTION_NEEDED,
            _("An exception to separation-of-duties %(rules)s needs a justification and a second administrator.")
            % {"rules": "; ".join(_describe(hit) for hit in needed)},
        )
    return needed


def exception_payload(hits: list[Hit], justification: str) -> dict:
    """What a pending change carries for the exceptions it asks (rule ids, the justification); nothing when
    it asks none."""
    if not hits:
        return {}
    return {"sod_exceptions": sorted({hit.rule.pk for hit in hits}), "justification": justification.strip()}


def record_exceptions(gain: Gain, payload: dict, *, requested_by, approved_by) -> None:
    """At approval: record an exception per (rule, user) the change creates under the approved rules, each
    audited (inside the approval's transaction)."""
    exempt = set(payload.get("sod_exceptions") or ())
    if not exempt:
        return
    for hit in conflicts(gain):
        if hit.rule.pk not in exempt:
            continue
        exception, created = SodException.objects.get_or_create(
            tenant_id=hit.rule.tenant_id,
            rule=hit.rule,
            user=hit.user,
            defaults={
                "justification": payload.get("justification") or "-",
                "requested_by": requested_by,
                "approved_by": approved_by,
            },
        )
        if created:
            audit.record(
                EventType.SOD_EXCEPTION_APPROVED,
                tenant=hit.user.tenant,
                actor=approved_by,
                target=exception,
                after={
                    "rule": hit.rule.name,
                    "user": audit.person(hit.user),
                    "requested_by": audit.person(requested_by) if requested_by else None,
                },
                reason=exception.justification,
            )
