"""Attribute display names: what a person reads instead of an attribute's key (``list_price`` → "List price").

The seeded business modules' attributes have translated names here; a tenant names the attributes of its
own modules (``Module.attribute_names``: key → {"en": …, "zh-hans": …}, set in the module's settings). Any
other key reads as words ("owner_team" → "Owner team"): never the raw key on a page.
"""

from __future__ import annotations

from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from permissions.vocabulary import BusinessModule, ModuleKind

BUILTIN_ATTRIBUTE_NAMES = {
    BusinessModule.PRODUCTS.value: {
        "sku": _("SKU"),
        "list_price": _("List price"),
        "cost_price": _("Cost price"),
        "supplier": _("Supplier"),
    },
    BusinessModule.REPORTS.value: {
        "period": _("Period"),
        "revenue": _("Revenue"),
        "owner_team": _("Owner team"),
    },
    BusinessModule.ANALYTICS.value: {
        "widgets": _("Widgets"),
        "customer_emails": _("Customer e-mail addresses"),
    },
}
#: The languages a tenant may name its attributes (and its roles and modules) in.
NAME_LANGUAGES = ("en", "zh-hans")


def words_of(key: str) -> str:
    """A key as words: ``owner_team`` and ``OWNER_TEAM`` read "Owner team"."""
    text = " ".join(part for part in str(key).replace("-", "_").split("_") if part).lower()
    return text[:1].upper() + text[1:] if text else str(key)


def language() -> str:
    """The active language as NAME_LANGUAGES names it."""
    return "zh-hans" if (get_language() or "en").lower().startswith("zh") else "en"


def attribute_name(module, key: str) -> str:
    """The display name of one attribute of ``module`` in the active language."""
    own = ((getattr(module, "attribute_names", None) or {}).get(key)) or {}
    if own.get(language()) or own.get("en"):
        return own.get(language()) or own.get("en")
    if getattr(module, "kind", None) == ModuleKind.BUSINESS:
        builtin = BUILTIN_ATTRIBUTE_NAMES.get(module.key, {}).get(key)
        if builtin is not None:
            return str(builtin)
    return words_of(key)


def named(module, attributes: dict) -> list[tuple[str, str, object]]:
    """(key, display name, value) of each attribute, in the given order."""
    return [(key, attribute_name(module, key), value) for key, value in (attributes or {}).items()]


def parse_names(text: str) -> dict[str, dict[str, str]]:
    """``key = English name | 中文名`` lines as {key: {"en": …, "zh-hans": …}}; raises ValueError on a bad line."""
    names: dict[str, dict[str, str]] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        key, sep, rest = line.partition("=")
        english, _bar, chinese = rest.partition("|")
        if not sep or not key.strip() or not (english.strip() or chinese.strip()):
            raise ValueError(number)
        entry = {"en": english.strip()[:100], "zh-hans": chinese.strip()[:100]}
        names[key.strip()[:100]] = {lang: value for lang, value in entry.items() if value}
    return names


def names_text(names: dict) -> str:
    """The reverse of ``parse_names``, for the form's initial value."""
    lines = []
    for key, entry in sorted((names or {}).items()):
        line = f"{key} = {entry.get('en', '')}"
        lines.append(f"{line} | {entry['zh-hans']}" if entry.get("zh-hans") else line)
    return "\n".join(lines)
