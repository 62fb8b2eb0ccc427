"""The navigation area: computed in Python for the current user, so templates only render it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class NavEntry:
    """One menu item: shown when ``visible(user)`` says so."""

    label: str | Promise
    url_name: str
    visible: Callable[[object], bool]
    section: str = "main"


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
    """The menu of the current user, with the active entry marked."""
    user = request.user
    if not (user.is_authenticated and user.tenant_id) or getattr(request, "mfa_pending", False):
        return []  # a password-only session (accounts.policy) sees no menu, only the MFA step
    items = []
    dynamic = [(label, url) for provider in PROVIDERS for label, url in provider(request)]
    for entry in REGISTRY:
        if not entry.visible(user):
            continue
        url = reverse(entry.url_name)
        active = request.path == url if url == "/" else request.path.startswith(url)
        items.append({"label": entry.label, "url": url, "active": active, "section": entry.section})
    extra = [
        {"label": label, "url": url, "active": request.path.startswith(url), "section": "main"}
        for label, url in dynamic
    ]
    return items[:1] + extra + items[1:]
