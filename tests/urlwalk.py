"""Every URL pattern of the portal with its ids filled in: the tenant's own objects (the AZ-1 walker's makers),
Django admin rows, SCIM names, and tokens of the right purpose for the pages behind e-mailed links. Used by the
walks that prove SES-2 and DP-4 on every page."""

from __future__ import annotations

import re

from django.apps import apps
from django.urls import get_resolver, reverse

from accounts.auth_models import EmailToken
from accounts.auth_services import issue_token
from accounts.scoping import dangerously_unscoped
from tests.factories import UserFactory
from tests.test_tenant_isolation import FOREIGN_IDS, own_kwargs, walk

# A link's token has the purpose of its page (a reset token on the invitation page is just "not found").
LINK_PURPOSES = {
    "accounts:invitation": EmailToken.Purpose.INVITATION,
    "accounts:password_reset_confirm": EmailToken.Purpose.PASSWORD_RESET,
}
# URL keywords the AZ-1 walker has no maker for: Django's admin (filled per model below) and SCIM.
FILLERS = {"app_label": "accounts", "name": "User", "urn": "urn:ietf:params:scim:schemas:core:2.0:User"}


# The fewest URL patterns each walk may find (about 80% of what each walks today): a walk that found fewer (a changed
# resolver, a prefix that no longer matches) would pass while proving nothing, so it fails instead.
MINIMUM_URLS = {"": 100, "platform-admin/": 22, "api/": 30, "scim/": 5}


def every_url(tenant, *, prefixes=("",), skip=("platform-admin/", "scim/v2/")) -> list[tuple[str, str]]:
    """(name, url) of every named URL pattern under ``prefixes``, its ids the tenant's own objects; at least
    ``MINIMUM_URLS`` of them (an empty or shrunken walk is a failure, never a silent pass)."""
    made, urls = {}, []
    for route, name, keywords in walk(get_resolver()):
        if not name:
            assert route.startswith("platform-admin/"), f"URL pattern {route} needs a name"
            continue
        if not route.startswith(prefixes) or (skip and route.startswith(skip)):
            continue
        if route.startswith("platform-admin/"):
            kwargs = _admin_kwargs(name, keywords)
            if kwargs is None:
                continue
        else:
            kwargs = own_kwargs([kw for kw in keywords if kw in FOREIGN_IDS], tenant, made)
            kwargs.update({kw: FILLERS.get(kw, "1") for kw in keywords if kw not in FOREIGN_IDS})
        if name in LINK_PURPOSES:
            kwargs["token"] = issue_token(UserFactory(tenant=tenant), LINK_PURPOSES[name])
        urls.append((name, reverse(name, kwargs=kwargs)))
    minimum = sum(MINIMUM_URLS.get(prefix, 1) for prefix in prefixes)
    assert len(urls) >= minimum, f"the walk of {prefixes} found {len(urls)} URL patterns, fewer than {minimum}"
    return urls


def _admin_kwargs(name: str, keywords: list[str]) -> dict | None:
    """Django admin's ids: a real row of the page's model (``admin:accounts_user_change`` …)."""
    if "content_type_id" in keywords or "url" in keywords:
        return None  # "view on site" and the catch-all only redirect
    kwargs = {kw: FILLERS[kw] for kw in keywords if kw in FILLERS}
    if "object_id" in keywords:
        match = re.fullmatch(r"admin:(\w+?)_(\w+)_(change|delete|history)", name)
        with dangerously_unscoped():
            model = apps.get_model(match[1], match[2])
            row = model._default_manager.order_by("pk").first() if model is not None else None
        if row is None:
            return None
        kwargs["object_id"] = row.pk
    return kwargs
