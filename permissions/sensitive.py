"""Sensitive fields (AZ-9): masked unless the user holds view_sensitive on the resource's module.

Every renderer, export, search result and API serializer takes attributes through ``visible_attributes``
(or ``mask_rows`` for a page), never ``resource.attributes`` directly.
"""

from __future__ import annotations

from permissions import engine
from permissions.vocabulary import Action

MASK = "••••"


def sensitive_names(resource) -> set[str]:
    """The attribute names the resource's module marks as sensitive."""
    return set(resource.module.sensitive_attributes or ())


def visible_attributes(user, resource) -> dict:
    """The resource's attributes, sensitive values replaced by MASK unless the user may view them."""
    names = sensitive_names(resource)
    attributes = dict(resource.attributes or {})
    if not names or engine.can(user, Action.VIEW_SENSITIVE, resource):
        return attributes
    return {key: (MASK if key in names else value) for key, value in attributes.items()}


def keep_hidden_values(resource, submitted: dict, *, visible: bool) -> dict:
    """The attributes to store when a writer submits ``submitted`` for ``resource`` (FC-3): a sensitive
    value sent back as MASK is the stored value, never the mask; a writer who cannot see sensitive values
    (``visible`` False) also keeps those they left out, as they never saw them. A new value replaces."""
    current = dict(resource.attributes or {}) if resource is not None else {}
    merged = dict(submitted)
    for name in sensitive_names(resource) if resource is not None else ():
        if name in current and merged.get(name, MASK if not visible else None) == MASK:
            merged[name] = current[name]
    return merged


def masked_names(resource_or_module, attributes: dict) -> list[str]:
    """Sensitive attributes whose value is the mask itself (never stored: it would overwrite the data)."""
    module = getattr(resource_or_module, "module", resource_or_module)
    names = set(module.sensitive_attributes or ())
    return sorted(name for name, value in attributes.items() if name in names and value == MASK)


def mask_rows(user, resources) -> list[tuple[object, dict]]:
    """(resource, visible attributes) for a page, with the user's object answers loaded in one query."""
    resources = list(resources)
    engine.prefetch(user, resources)
    return [(resource, visible_attributes(user, resource)) for resource in resources]
