"""A small, strict SCIM filter parser (RFC 7644 §3.4.2.2): ``attr eq "value"`` joined by ``and``.

Only what identity providers send to find an existing object (``userName eq "…"``, ``externalId eq``,
``displayName eq``); anything else is refused with ``invalidFilter`` instead of being half-understood.
"""

from __future__ import annotations

import json
import re

from api.input import text_problem

_TERM = re.compile(r'\s*([A-Za-z][A-Za-z0-9.:]*)\s+(eq)\s+("(?:[^"\\]|\\.)*"|true|false)\s*', re.IGNORECASE)
_AND = re.compile(r"\s+and\s+", re.IGNORECASE)


class InvalidFilter(ValueError):
    """The filter is outside the supported grammar."""


def parse(text: str, allowed: dict[str, str], booleans: tuple[str, ...] = ()) -> dict[str, object]:
    """{model field: value} for a filter over ``allowed`` (SCIM attribute, case-insensitive → field).
    Attributes named in ``booleans`` take ``true``/``false``; the others a quoted string (RFC 7644 §3.4.2.2),
    whose escapes are JSON's: a malformed escape, a control character or a lone surrogate is refused."""
    lowered = {name.lower(): field for name, field in allowed.items()}
    flags = {name.lower() for name in booleans}
    result: dict[str, object] = {}
    if len(text) > 1000:
        raise InvalidFilter("filter too long")
    for part in _split_and(text):
        match = _TERM.fullmatch(part)
        if match is None:
            raise InvalidFilter(f"unsupported filter: {part.strip()[:100]}")
        attribute, _op, raw = match.groups()
        field = lowered.get(attribute.lower())
        if field is None:
            raise InvalidFilter(f"cannot filter on {attribute}")
        if (attribute.lower() in flags) == raw.startswith('"'):
            kind = "true or false" if attribute.lower() in flags else "a quoted string"
            raise InvalidFilter(f"{attribute} takes {kind}")
        if raw.startswith('"'):
            try:
                value = json.loads(raw)
            except ValueError:
                raise InvalidFilter(f"malformed string in the filter: {raw[:100]}") from None
            problem = text_problem(value)
            if problem:
                raise InvalidFilter(problem)
        else:
            value = raw.lower() == "true"
        result[field] = value
    return result


def _split_and(text: str) -> list[str]:
    """Split on ``and`` outside quoted strings."""
    parts, current, quoted, index = [], [], False, 0
    while index < len(text):
        char = text[index]
        if char == '"' and (index == 0 or text[index - 1] != "\\"):
            quoted = not quoted
        if not quoted:
            match = _AND.match(text, index)
            if match and current:
                parts.append("".join(current))
                current, index = [], match.end()
                continue
        current.append(char)
        index += 1
    parts.append("".join(current))
    return parts
