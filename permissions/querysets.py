"""The one read door for modules and resources: ``Model.objects.restrict(user, action)`` (NetBox's
``RestrictedQuerySet``), the tenant-scoped queryset narrowed by the engine's ``visible()``.

Every view and API lookup of resources reads through it, so a lookup cannot forget the engine; a foreign
or invisible id is simply absent (a 404). ``restricted_prefetch`` does the same for related rows: a page
that prefetches a module's resources gets only those the reader may act on.
"""

from __future__ import annotations

from django.db.models import Prefetch

from accounts.scoping import TenantManager, TenantQuerySet


class RestrictedQuerySet(TenantQuerySet):
    """A tenant-scoped queryset of Modules or Resources that the engine can narrow."""

    def restrict(self, user, action):
        """These rows narrowed to what ``user`` may ``action`` (one statement; filters, order and slices kept)."""
        from permissions import engine  # the engine imports the models: resolved at call time

        return engine.visible(user, action, self)


class RestrictedManager(TenantManager.from_queryset(RestrictedQuerySet)):
    """``TenantManager`` (fail-closed tenant scope) whose querysets also have ``restrict(user, action)``."""


def restricted_prefetch(lookup: str, queryset: RestrictedQuerySet, user, action) -> Prefetch:
    """``Prefetch(lookup, queryset)`` of Modules or Resources limited to what ``user`` may ``action``."""
    return Prefetch(lookup, queryset=queryset.restrict(user, action))
