"""LOG-7: control characters from user input are shown and logged escaped, never raw."""

from __future__ import annotations

import re

# C0 controls, DEL, C1 controls, and the Unicode line/paragraph separators and bidi overrides.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape_controls(value) -> str:
    """``value`` as text with every control character replaced by a visible escape (``\\x1b``, ``\\n``…)."""
    text = value if isinstance(value, str) else str(value)
    return _CONTROL.sub(_escape, text)
