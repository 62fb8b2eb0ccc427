"""Template filters of the audit viewer."""

import json

from django import template
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

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


PROBLEM_KINDS = {
    "modified": _("Modified"),
    "missing": _("Missing"),
    "inserted": _("Inserted"),
    "reordered": _("Reordered"),
    "truncated": _("Truncated tail"),
    "rewritten": _("Rewritten history"),
    "bad_signature": _("Bad signature"),
    "inconsistent_checkpoints": _("Inconsistent checkpoints"),
    "unwitnessed": _("Not witnessed"),
    "rollback": _("Rolled back"),
    "fork": _("Forked history"),
    "stale": _("No recent checkpoint"),
    "bad_time": _("Wrong checkpoint time"),
    "bad_timestamp": _("Bad timestamp"),
    "malformed": _("Not an export"),
}


@register.filter
def problem_kind(problem) -> str:
    """A verification problem's kind, in the reader's language."""
    return str(PROBLEM_KINDS.get(problem.kind, problem.kind))


@register.filter
def problem_detail(problem) -> str:
    """A verification problem's text in the reader's language, its values filled in (controls escaped)."""
    if not problem.text:
        return escape_controls(problem.detail)
    args = {name: escape_controls(str(value)) for name, value in problem.args.items()}
    return gettext(problem.text).format(**args)
