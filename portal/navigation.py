"""The navigation area: computed in Python for the current user, so templates only render it.

Entries are grouped (Workspace, My account, Administration, Governance); exactly one entry is current: the one
whose URL is the longest prefix of the page's path (Home only on "/"). An entry may carry a count (what waits
for the user there), a function of the request computed once per request (``portal.worklist``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

WORKSPACE, ACCOUNT, ADMINISTRATION, GOVERNANCE = "workspace", "account", "administration", "governance"

#: The groups of the menu, in order. Older names of a section still work: "main" is the workspace and
#: "console" the administration.
GROUPS: list[tuple[str, str | Promise]] = [
    (WORKSPACE, _("Workspace")),
    (ACCOUNT, _("My account")),
    (ADMINISTRATION, _("Administration")),
    (GOVERNANCE, _("Governance")),
]
ALIASES = {"main": WORKSPACE, "console": ADMINISTRATION}


@dataclass(frozen=True)
class NavEntry:
    """One menu item: shown when ``visible(user)`` says so, in the group ``section``; ``count(request)``
    (optional) is shown beside its label when it is not zero."""

    label: str | Promise
    url_name: str
    visible: Callable[[object], bool]
    section: str = WORKSPACE
    count: Callable[[object], int] | None = None


def _always(user) -> bool:
    return True


REGISTRY: list[NavEntry] = [NavEntry(_("Home"), "home", _always)]


def permitted(module: str, action) -> Callable[[object], bool]:
    """A ``visible`` test that asks the permission engine (menus never re-implement a check)."""

    def check(user) -> bool:
        from permissions import engine

        return engine.can(user, action, module)

    return check


def register(entry: NavEntry) -> None:
    """Add a menu item (apps call this from their AppConfig.ready)."""
    REGISTRY.append(entry)


#: Functions ``provider(request) -> [(label, url)]`` adding entries computed per user (e.g. one per
#: business module of the tenant that the engine lets the user view). Shown after the Home entry.
PROVIDERS: list[Callable[[object], list[tuple[str | Promise, str]]]] = []


def register_provider(provider: Callable[[object], list[tuple[str | Promise, str]]]) -> None:
    """Add a dynamic entry provider (apps call this from their AppConfig.ready)."""
    PROVIDERS.append(provider)


def items_for(request) -> list[dict]:
    """The menu of the current user, flat and in group order, exactly one entry marked active."""
    user = request.user
    if not (user.is_authenticated and user.tenant_id) or getattr(request, "mfa_pending", False):
        return []  # a password-only session (accounts.policy) sees no menu, only the MFA step
    items = []
    for entry in REGISTRY:
        if not entry.visible(user):
            continue
        count = entry.count(request) if entry.count else 0
        section = ALIASES.get(entry.section, entry.section)
        items.append({"label": entry.label, "url": reverse(entry.url_name), "section": section, "count": count})
    dynamic = [
        {"label": label, "url": url, "section": WORKSPACE, "count": 0}
        for provider in PROVIDERS
        for label, url in provider(request)
    ]
    items = items[:1] + dynamic + items[1:]
    order = {key: position for position, (key, _label) in enumerate(GROUPS)}
    items.sort(key=lambda item: order.get(item["section"], len(order)))  # stable: registration order kept
    current = current_url(request.path, [item["url"] for item in items])
    for item in items:
        item["active"] = item["url"] == current
    return items


def current_url(path: str, urls: list[str]) -> str | None:
    """The URL of the entry the page belongs to: the longest one that is a prefix of ``path`` ("/" only for
    itself), so that /console/webhooks/ is Webhooks and not also another entry under /console/."""
    matching = [url for url in urls if (path == url if url == "/" else path.startswith(url))]
    return max(matching, key=len, default=None)


def groups_for(request) -> list[dict]:
    """The menu grouped for the template: [{"key", "label", "items"}], empty groups left out."""
    items = items_for(request)
    groups = []
    for key, label in GROUPS:
        members = [item for item in items if item["section"] == key]
        if members:
            groups.append({"key": key, "label": label, "items": members})
    known = {key for key, _label in GROUPS}
    others = [item for item in items if item["section"] not in known]
    if others:
        groups.append({"key": "other", "label": _("More"), "items": others})
    return groups
