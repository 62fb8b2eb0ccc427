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


def mask_rows(user, resources) -> list[tuple[object, dict]]:
    """(resource, visible attributes) for a page, with the user's object answers loaded in one query."""
    resources = list(resources)
    engine.prefetch(user, resources)
    return [(resource, visible_attributes(user, resource)) for resource in resources]
