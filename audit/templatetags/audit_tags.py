"""Template filters of the audit viewer."""

import json

from django import template

from audit.escaping import escape_controls

register = template.Library()


@register.filter
def visible(value) -> str:
    """LOG-7: the value as text with control characters escaped (HTML escaping still applies)."""
    if value is None:
        return ""
    if not isinstance(value, str):
        value = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return escape_controls(value)
