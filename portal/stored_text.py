"""Texts the product wrote and stored in English, read in the reader's language.

Some generated texts are kept as written, in the language of whoever (or whichever job) wrote them: an audit
event's reason (signed, never rewritten), a review item's apply result, a grant's reason. Each format is
declared here once, as its English message; a stored text that matches one is shown through gettext in the
reader's language, its values translated where they are vocabulary (a decision, "policy default"). Anything
else (what people typed) is shown as stored.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache

from django.utils.translation import gettext, gettext_noop

#: The formats, longest first where one is a prefix of another (tried in order).
FORMATS = [
    gettext_noop(
        "Access review «%(campaign)s» (campaign %(campaign_id)s, item %(item)s): %(decision)s by %(who)s: %(note)s"
    ),
    gettext_noop("Access review «%(campaign)s» (campaign %(campaign_id)s, item %(item)s): %(decision)s by %(who)s"),
    gettext_noop("Access request #%(request)s: %(reason)s"),
    gettext_noop("Case #%(case)s: %(subject)s"),
    gettext_noop("Grant #%(id)s revoked."),
    gettext_noop("Grant #%(old)s replaced by #%(new)s expiring %(when)s."),
    gettext_noop("Role changed to %(role)s."),
    gettext_noop("The grant had already ended."),
    gettext_noop("The grant already expires earlier."),
    gettext_noop("Not applied: the last administrator."),
    gettext_noop("The user's role changed since the campaign opened."),
    gettext_noop("The role to reduce to no longer exists."),
    gettext_noop("policy default"),
    gettext_noop("cloned from %(role_key)s"),
    gettext_noop("Dormant account: no login for %(days)s days (tenant policy: %(policy)s days)"),
    gettext_noop("single sign-on mapping of %(method)s"),
    gettext_noop("invited by the organisation's administrator"),
    gettext_noop("%(attempts)s failed attempts"),
    gettext_noop("disabled by an administrator"),
    gettext_noop("API: new user"),
    gettext_noop("API: deactivated"),
    gettext_noop("SCIM: deprovisioned"),
]
gettext_noop("user #%(id)s")


def _decision(value: str) -> str:
    from reviews.models import Decision

    return str(Decision(value).label) if value in Decision.values else value


def _who(value: str) -> str:
    if value == "policy default":
        return gettext("policy default")
    match = re.fullmatch(r"user #(\d+)", value)
    return gettext("user #%(id)s") % {"id": match[1]} if match else value


def _role(value: str) -> str:
    from permissions.models import BuiltinRole

    english = {str(label): key for key, label in zip(BuiltinRole.values, _english_labels(), strict=True)}
    return str(BuiltinRole(english[value]).label) if value in english else value


@cache
def _english_labels() -> tuple[str, ...]:
    from django.utils import translation

    from permissions.models import BuiltinRole

    with translation.override("en"):
        return tuple(str(label) for label in BuiltinRole.labels)


def _role_key(value: str) -> str:
    from permissions.models import BuiltinRole

    return str(BuiltinRole(value).label) if value in BuiltinRole.values else value


VALUES: dict[str, Callable[[str], str]] = {"decision": _decision, "who": _who, "role": _role, "role_key": _role_key}


@cache
def _patterns() -> list[tuple[re.Pattern, str]]:
    compiled = []
    for message in FORMATS:
        parts = re.split(r"%\((\w+)\)s", message)
        regex = "".join(re.escape(part) if i % 2 == 0 else f"(?P<{part}>.+?)" for i, part in enumerate(parts))
        compiled.append((re.compile(regex, re.S), message))
    return compiled


def readable(text) -> str:
    """``text`` in the active language when it is one of FORMATS, else as stored."""
    if not text:
        return text or ""
    text = str(text)
    for pattern, message in _patterns():
        match = pattern.fullmatch(text)
        if match:
            values = {name: VALUES.get(name, str)(value) for name, value in match.groupdict().items()}
            return gettext(message) % values if values else gettext(message)
    return text
