"""Demo access requests of a demo tenant: pending ones, decided ones, grants about to expire (idempotent)."""

from __future__ import annotations

from accessrequests import services
from accessrequests.models import AccessRequest
from accounts.models import User
from accounts.scoping import tenant_scope
from permissions.models import Module, Resource
from permissions.vocabulary import Action


def seed(tenant) -> None:
    """Fill one demo tenant's requests through the services (so each step is audited as in real use)."""
    slug = tenant.slug
    with tenant_scope(tenant):
        if AccessRequest.objects.exists():
            return
        people = {u.email: u for u in User.objects.all()}
        admin = people.get(f"admin@{slug}.example")
        if admin is None:
            return
        mods = {m.key: m for m in Module.objects.all()}
        by_code = {r.external_id: r for r in Resource.objects.exclude(external_id=None)}

        def ask(n, key, code, actions, reason, days=14):
            user = people.get(f"basic{n}@{slug}.example")
            if user is None:
                return None
            return services.submit(
                actor=user,
                module=mods[key],
                resource=by_code.get(code) if code else None,
                actions=actions,
                reason=reason,
                duration_days=days,
            )

        # Pending: waiting in the administrator's queue.
        ask(3, "reports", "R-001", [Action.VIEW], "Preparing the Q1 review with our account manager")
        ask(4, "analytics", "D-002", [Action.VIEW], "Checking the web traffic after our campaign", days=30)
        advanced = people.get(f"advanced1@{slug}.example")
        if advanced is not None:
            services.submit(
                actor=advanced,
                module=mods["users"],
                actions=[Action.VIEW],
                reason="Helping onboard my colleagues",
                duration_days=7,
            )
        # Decided: one approved for a week (its grant ends within the notice window), one approved for a
        # day (ends tomorrow), one denied.
        week = ask(5, "reports", "R-002", [Action.VIEW], "Budget planning for next quarter", days=7)
        if week is not None:
            services.approve(week, actor=admin, reason="OK for the planning week")
        day = ask(6, "reports", "R-004", [Action.VIEW], "One-off look at the forecast", days=1)
        if day is not None:
            services.approve(day, actor=admin)
        denied = ask(8, "products", None, [Action.EXPORT], "Would like to export the catalogue")
        if denied is not None:
            services.deny(denied, actor=admin, reason="The catalogue export goes through your account manager")
