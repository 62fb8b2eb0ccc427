"""The home page's panels, per persona: each panel is shown only to a user whom the engine lets see the screen
it links to, and costs a fixed number of queries whatever the tenant's size (portal.worklist)."""

from __future__ import annotations

from portal import worklist


def home_panels(request) -> dict:
    """The context of portal/home.html: ``admin`` (what waits for administrators), ``reviews`` (the user's
    open review items by campaign), ``mine`` (the user's access, requests and expiries), ``previous_login``."""
    user = request.user
    return {
        "admin": _admin_panel(request),
        "reviews": worklist.my_open_reviews(request) if worklist.is_reviewer(user) else None,
        "mine": _my_panel(request),
        "previous_login": previous_login(user),
    }


def _admin_panel(request) -> dict | None:
    """Counts and links for the administrators (and whoever holds one of the rights behind them)."""
    user = request.user
    panel = {}
    if worklist.sees_approvals(user):
        panel["approvals"] = worklist.pending_approvals(request)
        panel["expiring"] = worklist.grants_expiring(request)
    if worklist.decides_requests(user):
        panel["requests"] = worklist.requests_to_decide(request)
    if worklist.sees_campaigns(user):
        panel["campaigns"] = worklist.campaigns_due(request)
    if worklist.sees_audit(user):
        panel["events"] = worklist.recent_events(request)
    return panel or None


def _my_panel(request) -> dict:
    """What every user of the tenant sees about themselves."""
    from workspace.access import viewable_modules

    return {
        "modules": viewable_modules(request),
        "requests": worklist.my_requests(request),
        "expiring": worklist.my_expiring(request),
    }


def previous_login(user):
    """The time of the login before this session's (``last_login`` is this session's own, set as it began),
    from the audit log; None for a first login."""
    from accounts.scoping import tenant_scope
    from audit.events import EventType
    from audit.models import AuditEvent

    with tenant_scope(user.tenant):
        times = list(
            AuditEvent.objects.filter(
                target_type="accounts.user", target_id=str(user.pk), event_type=EventType.LOGIN_SUCCEEDED
            )
            .order_by("-seq")
            .values_list("occurred_at", flat=True)[1:2]
        )
    return times[0] if times else None
