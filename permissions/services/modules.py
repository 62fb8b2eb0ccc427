"""Custom modules and resources."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q
from django.utils.text import slugify

import audit
from audit.events import EventType
from permissions import engine
from permissions.models import BuiltinRole, Module, Resource, Role, RolePermission
from permissions.sensitive import keep_hidden_values, masked_names
from permissions.services.checks import require, same_tenant
from permissions.services.errors import AccessRefused, ErrorCode
from permissions.versioning import bump
from permissions.vocabulary import BUSINESS_ACTIONS, SYSTEM_MODULE_KEYS, Action, ModuleKind, mask_of


@transaction.atomic
def create_module(
    *, actor, tenant, name: str, key: str = "", actions=BUSINESS_ACTIONS, sensitive_attributes=(), name_zh: str = ""
) -> Module:
    """A tenant-defined module with its applicable actions and sensitive attribute names."""
    if actor is not None and actor.tenant_id != tenant.pk:
        raise AccessRefused(ErrorCode.CROSS_TENANT)
    require(actor, Action.CREATE, "modules")
    key = slugify(key or name)[:50]
    mask = mask_of(actions)
    if not key or not name.strip() or not mask or key in SYSTEM_MODULE_KEYS or Module.objects.filter(key=key).exists():
        raise AccessRefused(ErrorCode.INVALID, "choose another key, a name and some actions")
    module = Module.objects.create(
        tenant=tenant,
        key=key,
        name=name.strip(),
        name_zh=(name_zh or "").strip()[:100],
        kind=ModuleKind.CUSTOM,
        actions=mask,
        sensitive_attributes=sorted({str(a) for a in sensitive_attributes}),
    )
    # "Administrator = everything": the built-in role holds every applicable action of a new module too,
    # else nobody could manage its resources (the Administrator matrix itself is locked).
    administrator = Role.objects.filter(builtin=True, key=BuiltinRole.ADMINISTRATOR).first()
    if administrator is not None:
        RolePermission.objects.create(tenant=tenant, role=administrator, module=module, actions=mask)
    audit.record(
        EventType.MODULE_CREATED,
        tenant=tenant,
        actor=actor,
        target=module,
        after={
            "key": key,
            **({"name_zh": module.name_zh} if module.name_zh else {}),
            "actions": [a.value for a in Action if mask & a.bit],
            "sensitive": module.sensitive_attributes,
            "administrator_role": administrator is not None,
        },
    )
    bump(tenant.pk)
    return module


RESEAL_CHUNK = 500


def _reseal(module: Module, added: set[str], removed: set[str]) -> int:
    """Re-split the module's resources after its sensitive names changed: a newly sensitive attribute
    leaves the plain column for the encrypted one, a no-longer-sensitive one comes back. Only rows that
    can hold such an attribute are rewritten. Returns how many were."""
    candidates = Q(pk__in=[])
    if added:
        candidates |= Q(attributes__has_any_keys=sorted(added))
    if removed:
        candidates |= Q(sealed_attributes__isnull=False)
    count = 0
    for resource in Resource.objects.filter(candidates, module=module).order_by("pk").iterator(RESEAL_CHUNK):
        resource.module = module  # the new list of names decides the split
        resource.save(update_fields=["attributes"])
        count += 1
    return count


def _rename_for_people(module: Module, name_zh, attribute_names, before: dict, after: dict) -> None:
    """A custom module's Chinese name, and the display names of its attributes (key → {language: name})."""
    if name_zh is not None and name_zh.strip() != module.name_zh:
        if module.kind != ModuleKind.CUSTOM:
            raise AccessRefused(ErrorCode.INVALID, "the names of built-in modules come with the product")
        before["name_zh"], after["name_zh"] = module.name_zh, name_zh.strip()[:100]
        module.name_zh = after["name_zh"]
    if attribute_names is not None and attribute_names != (module.attribute_names or {}):
        if module.is_system:
            raise AccessRefused(ErrorCode.INVALID, "a console module holds no attributes")
        before["attribute_names"], after["attribute_names"] = module.attribute_names or {}, attribute_names
        module.attribute_names = attribute_names


@transaction.atomic
def update_module(
    module: Module, *, actor, name=None, sensitive_attributes=None, owners=None, name_zh=None, attribute_names=None
) -> Module:
    """Rename a custom module (its Chinese name too), name its attributes for people, change which attributes
    are sensitive (business and custom modules; the resources are re-sealed in the same transaction) or who owns
    it (its owners approve access requests for it). Needs modules: change. A console module keeps its name and
    has no owners: requests for console rights are decided by administrators."""
    if actor is not None:
        same_tenant(actor.tenant_id, module)
    require(actor, Action.CHANGE, "modules")
    module = Module.objects.select_for_update().get(pk=module.pk)
    before, after = {}, {}
    if name is not None and name.strip() != module.name:
        if module.kind != ModuleKind.CUSTOM or not name.strip():
            raise AccessRefused(ErrorCode.INVALID, "only a custom module is renamed, and it needs a name")
        before["name"], after["name"] = module.name, name.strip()[:100]
        module.name = after["name"]
    _rename_for_people(module, name_zh, attribute_names, before, after)
    resealed = 0
    if sensitive_attributes is not None:
        names = sorted({str(a).strip() for a in sensitive_attributes if str(a).strip()})
        if module.is_system and names:
            raise AccessRefused(ErrorCode.INVALID, "a console module holds no attributes")
        old = set(module.sensitive_attributes or ())
        if set(names) != old:
            before["sensitive"], after["sensitive"] = sorted(old), names
            module.sensitive_attributes = names
    module.save()
    if "sensitive" in after:
        resealed = _reseal(
            module,
            set(after["sensitive"]) - set(before["sensitive"]),
            set(before["sensitive"]) - set(after["sensitive"]),
        )
    if owners is not None:
        owners = list(owners)
        same_tenant(module.tenant_id, *owners)
        if module.is_system and owners:
            raise AccessRefused(ErrorCode.INVALID, "requests for console rights are decided by administrators")
        if any(not user.is_active for user in owners):
            raise AccessRefused(ErrorCode.INVALID, "owners must be active users")
        current = {u.pk: u for u in module.owners.all()}
        wanted = {u.pk: u for u in owners}
        if set(current) != set(wanted):
            before["owners"], after["owners"] = (
                [audit.person(u) for u in sorted(people.values(), key=lambda u: u.email)]
                for people in (current, wanted)
            )
            module.owners.set(list(wanted))
    if not after:
        return module
    audit.record(
        EventType.MODULE_CHANGED,
        tenant=module.tenant,
        actor=actor,
        target=module,
        before=before,
        after={**after, "resources_resealed": resealed} if "sensitive" in after else after,
    )
    bump(module.tenant_id)
    return module


def _check_resource(actor, action, target) -> None:
    if actor is not None and not engine.can(actor, action, target):
        raise AccessRefused(ErrorCode.NOT_ALLOWED)


@transaction.atomic
def create_resource(
    *,
    actor,
    module: Module,
    title: str,
    description: str = "",
    attributes=None,
    owner=None,
    external_id: str | None = None,
) -> Resource:
    """A resource in a business or custom module. Needs create on that module."""
    if actor is not None:
        same_tenant(actor.tenant_id, module)
    same_tenant(module.tenant_id, owner)
    if module.is_system:
        raise AccessRefused(ErrorCode.INVALID, "system modules hold no resources")
    _check_resource(actor, Action.CREATE, module)
    if not title.strip():
        raise AccessRefused(ErrorCode.INVALID, "a resource needs a title")
    if external_id and Resource.objects.filter(module=module, external_id=external_id).exists():
        raise AccessRefused(ErrorCode.INVALID, "that external id exists in the module")
    _refuse_masks(module, attributes or {})
    resource = Resource.objects.create(
        tenant_id=module.tenant_id,
        module=module,
        title=title.strip(),
        description=description,
        attributes=attributes or {},
        owner=owner,
        external_id=external_id or None,
    )
    audit.record(
        EventType.RESOURCE_CREATED,
        tenant=module.tenant,
        actor=actor,
        target=resource,
        after={"module": module.key, "title": resource.title, "external_id": resource.external_id},
    )
    return resource


_EDITABLE = ("title", "description", "attributes", "external_id")


def _refuse_masks(resource_or_module, attributes: dict) -> None:
    masked = masked_names(resource_or_module, attributes)
    if masked:
        raise AccessRefused(ErrorCode.INVALID, f"the mask is not a value: {', '.join(masked)}")


@transaction.atomic
def update_resource(resource: Resource, *, actor, sensitive_visible: bool | None = None, **changes) -> Resource:
    """Change a resource's title, description, attributes or external id. Needs change on it.
    The owner, module and tenant are not set through here (AZ-4).

    Sensitive values the writer cannot see are never overwritten by what they were shown (FC-3): a value
    sent back as the mask keeps the stored one, and so does one left out by a writer who may not view
    sensitive values (the engine's answer, narrowed by ``sensitive_visible=False`` for an API key without
    that scope). Every path (console, API PATCH, bulk) comes through here."""
    if actor is not None:
        same_tenant(actor.tenant_id, resource)
    _check_resource(actor, Action.CHANGE, resource)
    unknown = set(changes) - set(_EDITABLE)
    if unknown:
        raise AccessRefused(ErrorCode.INVALID, f"cannot set {sorted(unknown)}")
    if "attributes" in changes:
        visible = actor is None or engine.can(actor, Action.VIEW_SENSITIVE, resource)
        attributes = keep_hidden_values(
            resource, dict(changes["attributes"] or {}), visible=visible and sensitive_visible is not False
        )
        _refuse_masks(resource, attributes)
        changes["attributes"] = attributes
    changes = {field: value for field, value in changes.items() if getattr(resource, field) != value}
    if "external_id" in changes:
        changes["external_id"] = changes["external_id"] or None
        taken = Resource.objects.filter(module_id=resource.module_id, external_id=changes["external_id"])
        if changes["external_id"] and taken.exclude(pk=resource.pk).exists():
            raise AccessRefused(ErrorCode.INVALID, "that external id exists in the module")
    if not changes:
        return resource  # nothing to change: no write, no event
    before = {field: getattr(resource, field) for field in changes}
    for field, value in changes.items():
        setattr(resource, field, value)
    resource.save(update_fields=[*changes, "updated_at"])
    module = resource.module
    sensitive = set(module.sensitive_attributes)

    def redact(values):  # never copy sensitive values into the audit trail
        if isinstance(values.get("attributes"), dict):
            values = {
                **values,
                "attributes": {k: ("••••" if k in sensitive else v) for k, v in values["attributes"].items()},
            }
        return values

    audit.record(
        EventType.RESOURCE_CHANGED,
        tenant=module.tenant,
        actor=actor,
        target=resource,
        before=redact(before),
        after=redact(changes),
    )
    return resource


@transaction.atomic
def set_resource_owner(resource: Resource, owner, *, actor, reason: str = "") -> Resource:
    """Make ``owner`` (an active user of the tenant, or None) the resource's owner, who may then decide
    access requests for it. An administrative act: needs modules: change (editing a resource never sets
    its owner, AZ-4). Audited."""
    if actor is not None:
        same_tenant(actor.tenant_id, resource)
    require(actor, Action.CHANGE, "modules")
    same_tenant(resource.tenant_id, owner)
    if owner is not None and not owner.is_active:
        raise AccessRefused(ErrorCode.INVALID, "the owner must be an active user")
    resource = Resource.objects.select_for_update().get(pk=resource.pk)  # no join: PostgreSQL locks no outer join
    before = audit.person(resource.owner) if resource.owner_id else None
    if resource.owner_id == (owner.pk if owner else None):
        return resource
    resource.owner = owner
    resource.save(update_fields=["owner", "updated_at"])
    audit.record(
        EventType.RESOURCE_OWNER_CHANGED,
        tenant=resource.tenant,
        actor=actor,
        target=resource,
        before={"owner": before},
        after={"owner": audit.person(owner)},
        reason=reason,
    )
    return resource
