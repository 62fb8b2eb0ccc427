"""Human labels in templates: an attribute's display name instead of its key."""

from django import template

from permissions.attributes import attribute_name, named

register = template.Library()


@register.filter
def attribute_label(key, module) -> str:
    """``{{ key|attribute_label:module }}``: the attribute's display name in the reader's language."""
    return attribute_name(module, key)


@register.filter
def named_attributes(attributes, module) -> list:
    """``{% for key, label, value in attributes|named_attributes:module %}``."""
    return named(module, attributes)


@register.filter
def action_label(value) -> str:
    """``{{ "view"|action_label }}``: an action's name in the reader's language (the value when unknown)."""
    from permissions.vocabulary import Action

    return str(Action(value).label) if value in Action.values else str(value)
