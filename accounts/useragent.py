"""A short, human name for a User-Agent string ("Firefox on Linux"), for session and login lists."""

import re

_BROWSERS = [
    ("Edge", r"Edg/"),
    ("Opera", r"OPR/"),
    ("Chrome", r"Chrome/|Chromium/|HeadlessChrome/"),
    ("Firefox", r"Firefox/"),
    ("Safari", r"Safari/"),
]
_SYSTEMS = [
    ("Android", r"Android"),
    ("iOS", r"iPhone|iPad"),
    ("Windows", r"Windows"),
    ("macOS", r"Mac OS X"),
    ("Linux", r"Linux"),
]


def describe_browser(user_agent: str) -> str:
    """E.g. "Chrome on Windows"; the raw start of the string when nothing is recognised."""
    if not user_agent:
        return ""
    browser = next((name for name, pattern in _BROWSERS if re.search(pattern, user_agent)), "")
    system = next((name for name, pattern in _SYSTEMS if re.search(pattern, user_agent)), "")
    if browser and system:
        return f"{browser} · {system}"
    return browser or system or user_agent[:60]
