"""The check API: ``POST /api/v1/check`` and ``/api/v1/check/batch`` ask the engine the portal obeys.

Lean by design (research: authz_perf.md §6.4/§7 puts the floor at the Django request itself): the body
is parsed by hand rather than by a serializer; subjects and targets are remembered in this process while
the tenant's authorization version (a database row, ``permissions.versioning``) is unchanged, a subject for
at most ``SUBJECT_TTL`` seconds. Any change to a user's tenant, role or activity, or a
deleted user, bumps that version (``accounts.models.User``: save, queryset updates, deletes), so a
deactivated user is refused at once, in every process; module keys and resource ids never move; an
external id is remembered only for a second, as it can be changed. Each answer is ``engine.can``
(``engine.explain`` on request), whose compiled sets stay warm across requests.
Usage is recorded for allowed answers (``permissions.usage.record_use``: one write per key per day).
"""

from __future__ import annotations

import time

from django.db import connection
from django.utils.translation import gettext as _
from rest_framework import exceptions

from accounts.models import User
from api.input import as_ascii_id
from permissions import engine
from permissions.compiled import MAX_SET_SECONDS
from permissions.models import Module, Resource
from permissions.usage import record_use
from permissions.versioning import current_version
from permissions.vocabulary import ACTIONS, Action

MAX_BATCH = 100
TTL = 1.0
SUBJECT_TTL = MAX_SET_SECONDS  # bounded like a compiled set, whatever the version says
MAX_ENTRIES = 50_000
_targets: dict[tuple, tuple[object, tuple, float]] = {}


class NotFoundInTenant(Exception):
    """A subject or target that is missing, or another tenant's (the same answer for both)."""


def forget() -> None:
    """Forget remembered targets (tests)."""
    _targets.clear()


def _remember(store: dict, key, value, version, ttl: float | None) -> None:
    if len(store) >= MAX_ENTRIES:
        store.pop(next(iter(store)), None)
    store[key] = (value, version, time.monotonic() + ttl if ttl else float("inf"))


def _recall(store: dict, key, version):
    hit = store.get(key)
    if hit is not None and hit[1] == version and time.monotonic() < hit[2]:
        return hit[0]
    return None


MAX_ID = 2**63 - 1


def subject_id(value) -> int:
    """A user id from the body (a number, or digits, within the database's integer range)."""
    found = as_ascii_id(value)  # ASCII digits only: "²" or "١" are not ids
    if found is None:
        raise exceptions.ValidationError({"subject": [_("A user id is required.")]})
    return found


# In the model's field order (Model.from_db fills deferred fields by position); the organisation is what the
# sharing rules read of a subject.
_SUBJECT_FIELDS = tuple(
    f.attname
    for f in User._meta.concrete_fields
    if f.attname in {"id", "tenant_id", "role_id", "is_active", "email", "organisation_id"}
)


def load_subjects(tenant_id: int, items) -> dict[int, User]:
    """The tenant's users named by ``items`` (at most one query, for those not remembered at this version;
    foreign or missing ids are simply absent, and never remembered).

    One plain statement instead of the ORM: compiling the queryset cost more than the rest of a check.
    It names the tenant itself (the scoped manager's filter, explicitly); the other fields of the users
    stay deferred (loaded on access, e.g. by explain)."""
    ids = sorted({subject_id(item.get("subject")) for item in items if isinstance(item, dict)})
    if not ids:
        return {}
    version = current_version(tenant_id)
    users = {}
    for user_id in ids:
        remembered = _recall(_targets, ("subject", tenant_id, user_id), version)
        if remembered is not None:
            users[user_id] = remembered
    ids = [user_id for user_id in ids if user_id not in users]
    if not ids:
        return users
    placeholders = ", ".join(["%s"] * len(ids))
    sql = (
        f"SELECT {', '.join(_SUBJECT_FIELDS)} FROM {User._meta.db_table} "
        f"WHERE tenant_id = %s AND id IN ({placeholders})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [tenant_id, *ids])
        rows = cursor.fetchall()
    active = _SUBJECT_FIELDS.index("is_active")
    for row in rows:
        values = list(row)
        values[active] = bool(values[active])  # SQLite answers 0/1
        users[row[0]] = User.from_db(connection.alias, _SUBJECT_FIELDS, values)
        _remember(_targets, ("subject", tenant_id, row[0]), users[row[0]], version, SUBJECT_TTL)
    return users


_MODULES_SQL = f"SELECT key, id FROM {Module._meta.db_table} WHERE tenant_id = %s"  # noqa: S608 - constant
# What the engine reads of a target: its module, and for sharing rules its owner and (non-sensitive) attributes.
_RESOURCE_FIELDS = tuple(
    f.attname
    for f in Resource._meta.concrete_fields
    if f.attname in {"id", "tenant_id", "module_id", "owner_organisation_id", "attributes"}
)
_ATTRIBUTES = _RESOURCE_FIELDS.index("attributes")
_RESOURCE_SQL = (
    f"SELECT {', '.join(_RESOURCE_FIELDS)} FROM {Resource._meta.db_table} "  # noqa: S608 - constant names
    "WHERE tenant_id = %s AND module_id = %s AND {column} = %s"
)


def _rows(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def module_ids(tenant_id: int, version) -> dict[str, int]:
    """The tenant's module keys → ids: one query per version and process (a tenant has a few dozen)."""
    found = _recall(_targets, ("modules", tenant_id), version)
    if found is None:
        found = dict(_rows(_MODULES_SQL, [tenant_id]))
        _remember(_targets, ("modules", tenant_id), found, version, SUBJECT_TTL)
    return found


def _resource(tenant_id: int, module_id: int, column: str, value):
    """The tenant's resource of ``module_id`` with ``column`` = ``value`` (id, tenant and module loaded; the
    other fields deferred), or None: one plain statement, as compiling a queryset cost more than a check."""
    rows = _rows(_RESOURCE_SQL.format(column=column), [tenant_id, module_id, value])
    return _resource_of(rows[0]) if rows else None


def _resource_of(row) -> Resource:
    values = list(row)
    values[_ATTRIBUTES] = Resource._meta.get_field("attributes").from_db_value(values[_ATTRIBUTES], None, connection)
    return Resource.from_db(connection.alias, _RESOURCE_FIELDS, values)


def load_targets(tenant_id: int, items) -> list:
    """Remember, in one statement, the resources that ``items`` name by id and this process has not
    remembered at this version (what ``target_of`` then finds in memory); the resources named (for
    ``engine.warm``). Malformed items are left to ``target_of``, which says what is wrong."""
    version = current_version(tenant_id)
    modules = module_ids(tenant_id, version)
    named, missing = {}, {}
    for item in items:
        target = item.get("target") if isinstance(item, dict) else None
        if not isinstance(target, dict) or not isinstance(target.get("module"), str) or target["module"] not in modules:
            continue
        rid = target.get("resource")
        if isinstance(rid, bool) or not isinstance(rid, int) or not 0 <= rid <= MAX_ID:
            continue
        key = (tenant_id, modules[target["module"]], "id", rid)
        found = _recall(_targets, key, version)
        if found is None:
            missing[rid] = key
        else:
            named[rid] = found
    for resource in _fetch_resources(tenant_id, list(missing)):
        key = missing[resource.pk]
        if resource.module_id == key[1]:
            _remember(_targets, key, resource, version, None)
            named[resource.pk] = resource
    return list(named.values())


def _fetch_resources(tenant_id: int, ids: list[int]) -> list[Resource]:
    """The tenant's resources among ``ids`` (what the engine reads of them), 1,000 ids per statement."""
    found = []
    for start in range(0, len(ids), 1000):
        chunk = ids[start : start + 1000]
        sql = (
            f"SELECT {', '.join(_RESOURCE_FIELDS)} FROM {Resource._meta.db_table} "  # noqa: S608 - constant names
            f"WHERE tenant_id = %s AND id IN ({', '.join(['%s'] * len(chunk))})"
        )
        found.extend(_resource_of(row) for row in _rows(sql, [tenant_id, *chunk]))
    return found


# Hand-over to a replacement worker (portal/warmup.py) ------------------------------------------------------
HANDOVER_SUBJECTS, HANDOVER_RESOURCES = 2_000, 4_000  # the most recently remembered, per process


def remembered() -> dict[int, dict[str, list[int]]]:
    """The ids this process remembers, by tenant: ``{tenant_id: {"subjects": [...], "resources": [...]}}``,
    at most the last ``HANDOVER_SUBJECTS`` and ``HANDOVER_RESOURCES`` remembered (ids only: what a
    replacement loads again, at its own version, before it serves)."""
    subjects, resources = [], []
    for key in reversed(list(_targets)):
        if len(subjects) >= HANDOVER_SUBJECTS and len(resources) >= HANDOVER_RESOURCES:
            break
        if key[0] == "subject" and len(subjects) < HANDOVER_SUBJECTS:
            subjects.append((key[1], key[2]))
        elif len(key) == 4 and key[2] == "id" and len(resources) < HANDOVER_RESOURCES:
            resources.append((key[0], key[3]))
    found: dict[int, dict[str, list[int]]] = {}
    for kind, pairs in (("subjects", subjects), ("resources", resources)):
        for tenant_id, pk in pairs:
            found.setdefault(tenant_id, {"subjects": [], "resources": []})[kind].append(pk)
    return found


def warm(tenant_id: int, subject_ids: list[int], resource_ids: list[int]) -> None:
    """Remember the tenant's ``subject_ids`` and ``resource_ids`` at its current version and compile the
    subjects' sets (a few statements: 1,000 ids per statement, 200 users per compiled batch), as the first
    checks naming them would, one statement each."""
    version = current_version(tenant_id)
    module_ids(tenant_id, version)
    subjects = []
    for start in range(0, len(subject_ids), 1000):
        chunk = subject_ids[start : start + 1000]
        subjects.extend(load_subjects(tenant_id, [{"subject": pk} for pk in chunk]).values())
    for resource in _fetch_resources(tenant_id, resource_ids):
        _remember(_targets, (tenant_id, resource.module_id, "id", resource.pk), resource, version, None)
    engine.prefetch_many(subjects)


def target_of(tenant_id: int, value, version=None, modules: dict[str, int] | None = None):
    """A module key (str), or a Resource for ``{"module": key, "resource": id}`` or ``{"module": key,
    "external_id": "..."}``; NotFoundInTenant when the tenant has no such target.

    Module keys come from one map per version; a resource is one primary-key statement, remembered at
    this version (an external id for a second only, as it can be changed). ``version`` and ``modules``
    (``module_ids``), when the caller has them: a batch reads them once, not once per check."""
    if isinstance(value, str):
        value = {"module": value}
    if not isinstance(value, dict) or not isinstance(value.get("module"), str):
        raise exceptions.ValidationError({"target": [_("A target names a module, and optionally a resource.")]})
    module_key = value["module"]
    resource_id, external_id = value.get("resource"), value.get("external_id")
    # Each given part is checked, even the external id that a resource id outranks: a malformed value is
    # refused, never ignored (the 10-minute run: resource 0 with external id "" was a not_found, not a 400).
    if resource_id is not None and (
        isinstance(resource_id, bool) or not isinstance(resource_id, int) or not 0 <= resource_id <= MAX_ID
    ):
        raise exceptions.ValidationError({"target.resource": [_("A resource id is a number.")]})
    if external_id is not None and (not isinstance(external_id, str) or not external_id):
        raise exceptions.ValidationError({"target.external_id": [_("An external id is a text.")]})
    if version is None:
        version = current_version(tenant_id)
    module_id = (modules if modules is not None else module_ids(tenant_id, version)).get(module_key)
    if module_id is None:
        raise NotFoundInTenant
    if resource_id is None and external_id is None:
        return module_key
    if resource_id is not None:
        key, column, wanted, ttl = (tenant_id, module_id, "id", resource_id), "id", resource_id, None
    else:
        key, column, wanted, ttl = (tenant_id, module_id, "ext", external_id), "external_id", external_id, TTL
    found = _recall(_targets, key, version)
    if found is None:
        found = _resource(tenant_id, module_id, column, wanted)
        if found is None:
            raise NotFoundInTenant
        _remember(_targets, key, found, version, ttl)
    return found


def action_of(value) -> Action:
    """A known action of the vocabulary."""
    found = ACTIONS.get(value) if isinstance(value, str) else None
    if found is None:
        raise exceptions.ValidationError({"action": [_("Choose an action of the vocabulary.")]})
    return found


def resolve(tenant_id: int, item, subjects: dict[int, User], version=None, modules=None) -> tuple[User, Action, object]:
    """(subject, action, target) of one check; ValidationError when malformed, NotFoundInTenant when the
    subject (absent from ``subjects``, from ``load_subjects``) or the target is missing or another tenant's."""
    if not isinstance(item, dict):
        raise exceptions.ValidationError({"check": [_("A check is an object with subject, action and target.")]})
    action = action_of(item.get("action"))
    subject = subjects.get(subject_id(item.get("subject")))
    target = target_of(tenant_id, item.get("target"), version, modules)
    if subject is None:
        raise NotFoundInTenant
    return subject, action, target


def answer(tenant_id: int, subject: User, action: Action, target, *, explain: bool = False) -> dict:
    """``{"allowed": bool}`` (+ ``paths``/``reasons`` when explaining); an allowed answer records its use."""
    if explain:
        if isinstance(target, Resource):  # explain() reads titles and modules: a full row
            target = Resource.objects.select_related("module").get(tenant_id=tenant_id, pk=target.pk)
        explanation = engine.explain(subject, action, target)
        allowed = explanation.allowed
        found = {
            "allowed": allowed,
            "paths": [
                {
                    "kind": str(path.kind),
                    "text": str(path.text),
                    "grant": path.grant.pk if path.grant else None,
                    "expires_at": path.expires_at.isoformat() if path.expires_at else None,
                }
                for path in explanation.paths
            ],
            "reasons": [str(reason) for reason in explanation.reasons],
            "conflicts": [str(conflict) for conflict in explanation.conflicts],
        }
    else:
        allowed = engine.can(subject, action, target)
        found = {"allowed": allowed}
    if allowed:
        record_use(subject, action, target)
    return found


def prepare_single(tenant_id: int, body) -> tuple[User, Action, object]:
    """The one check of ``POST /check`` resolved (ValidationError, NotFoundInTenant)."""
    if not isinstance(body, dict):
        raise exceptions.ValidationError({"non_field_errors": [_("The body is a JSON object.")]})
    return resolve(tenant_id, body, load_subjects(tenant_id, [body]))


def prepare_batch(tenant_id: int, body) -> list[tuple | None]:
    """Every check of ``POST /check/batch`` resolved before any is answered (None: not found in the
    tenant), so a malformed check refuses the whole batch (400, naming it) and nothing is recorded. The
    subjects, the resources and the subjects' answers on them are loaded in a few statements."""
    if not isinstance(body, dict):
        raise exceptions.ValidationError({"non_field_errors": [_("The body is a JSON object.")]})
    checks = body.get("checks")
    if not isinstance(checks, list) or not 1 <= len(checks) <= MAX_BATCH:
        raise exceptions.ValidationError({"checks": [_("Send 1 to 100 checks.")]})
    try:
        subjects = load_subjects(tenant_id, checks)
    except exceptions.ValidationError as error:
        raise exceptions.ValidationError({"checks": error.detail}) from None
    engine.warm(subjects.values(), load_targets(tenant_id, checks))
    prepared, version = [], current_version(tenant_id)
    modules = module_ids(tenant_id, version)
    for index, item in enumerate(checks):
        try:
            prepared.append(resolve(tenant_id, item, subjects, version, modules))
        except NotFoundInTenant:
            prepared.append(None)
        except exceptions.ValidationError as error:
            raise exceptions.ValidationError({f"checks[{index}]": error.detail}) from None
    return prepared


def answer_batch(tenant_id: int, prepared: list[tuple | None], *, explain: bool = False) -> dict:
    """``{"results": [...]}`` in the checks' order (``{"allowed": false, "error": "not_found"}`` for a
    subject or target not found in the tenant)."""
    return {
        "results": [
            {"allowed": False, "error": "not_found"} if item is None else answer(tenant_id, *item, explain=explain)
            for item in prepared
        ]
    }
