"""Demo permissions of a demo tenant: resources, two customer companies, a few grants with expiry (idempotent)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from accounts.models import User
from accounts.scoping import tenant_scope
from permissions.models import Grant, Group, Module, Resource
from permissions.services import grants, groups, modules
from permissions.services.setup import setup_tenant
from permissions.vocabulary import Action

PRODUCTS = [
    ("X-200 router", "Edge router for branch offices"),
    ("X-300 router", "Core router with redundant power"),
    ("S-10 switch", "10-port managed switch"),
    ("S-48 switch", "48-port stackable switch"),
    ("AP-5 access point", "Wi-Fi 6 ceiling access point"),
    ("FW-1 firewall", "Next-generation firewall appliance"),
    ("NAS-4 storage", "4-bay network storage"),
    ("UPS-1500", "Line-interactive UPS"),
    ("Cam-2 camera", "Outdoor security camera"),
    ("VPN gateway", "Site-to-site VPN gateway"),
    ("Cable kit", "Patch cables and mounts"),
    ("Support plan Gold", "24/7 support, 4-hour response"),
]
REPORTS = [
    "Q1 revenue",
    "Q2 revenue",
    "Q3 revenue",
    "Q4 forecast",
    "Regional sales EMEA",
    "Regional sales APAC",
    "Churn analysis",
    "Top customers",
    "Inventory ageing",
    "Support tickets",
    "Returns",
    "Price list changes",
]
DASHBOARDS = [
    "Sales pipeline",
    "Web traffic",
    "Campaign performance",
    "Customer health",
    "Order funnel",
    "Usage by region",
    "Renewals",
    "NPS trend",
    "Fulfilment times",
    "Stock levels",
    "Partner activity",
    "Executive overview",
]


def _resources(tenant) -> dict[str, Resource]:
    mods = {m.key: m for m in Module.objects.all()}
    existing = {r.external_id: r for r in Resource.objects.exclude(external_id=None)}
    made = {}
    rows = []
    for n, (title, description) in enumerate(PRODUCTS, 1):
        rows.append(
            (
                "products",
                f"P-{n:03}",
                title,
                description,
                {"sku": f"P-{n:03}", "list_price": 100 * n, "cost_price": 60 * n, "supplier": f"Supplier {n % 4}"},
            )
        )
    for n, title in enumerate(REPORTS, 1):
        rows.append(
            (
                "reports",
                f"R-{n:03}",
                title,
                "",
                {"period": "2026", "revenue": f"{n * 0.7:.1f}M", "owner_team": "Finance"},
            )
        )
    for n, title in enumerate(DASHBOARDS, 1):
        rows.append(
            ("analytics", f"D-{n:03}", title, "", {"widgets": 4 + n % 5, "customer_emails": f"{n * 13} addresses"})
        )
    for key, external_id, title, description, attributes in rows:
        made[external_id] = existing.get(external_id) or modules.create_resource(
            actor=None,
            module=mods[key],
            title=title,
            description=description,
            attributes=attributes,
            external_id=external_id,
        )
    return made


def seed(tenant) -> None:
    """Fill one demo tenant (modules, matrices, resources, groups, grants); leaves existing rows alone."""
    setup_tenant(tenant)
    slug = tenant.slug
    with tenant_scope(tenant):
        resources = _resources(tenant)
        people = {u.email: u for u in User.objects.all()}
        admin = people.get(f"admin@{slug}.example")
        names = ["Initech", "Umbrella Retail"] if slug == "acme" else ["Hooli", "Vandelay Imports"]
        companies = []
        for index, name in enumerate(names):
            group = Group.objects.filter(name=name).first() or groups.create_group(
                actor=admin, tenant=tenant, name=name
            )
            companies.append(group)
            for n in range(1 + index * 5, 6 + index * 5):
                member = people.get(f"basic{n}@{slug}.example")
                if member and not group.memberships.filter(user=member).exists():
                    groups.add_member(group, member, actor=admin, owner=n % 5 == 1)
        if Grant.objects.exists() or admin is None:
            return
        now = timezone.now()
        mods = {m.key: m for m in Module.objects.all()}
        grants.grant(
            actor=admin,
            module=mods["reports"],
            resource=resources["R-003"],
            group=companies[0],
            actions=[Action.VIEW],
            reason="Quarterly business review with the customer",
        )
        grants.grant(
            actor=admin,
            module=mods["reports"],
            resource=resources["R-005"],
            group=companies[1],
            actions=[Action.VIEW, Action.EXPORT],
            reason="Regional planning",
            expires_at=now + timedelta(days=14),
        )
        basic2 = people.get(f"basic2@{slug}.example")
        basic7 = people.get(f"basic7@{slug}.example")
        if basic2:
            grants.grant(
                actor=admin,
                module=mods["analytics"],
                resource=resources["D-001"],
                user=basic2,
                actions=[Action.VIEW],
                reason="Pipeline pilot",
                expires_at=now + timedelta(days=30),
            )
        if basic7:
            grants.grant(
                actor=admin,
                module=mods["products"],
                user=basic7,
                actions=[Action.EXPORT],
                reason="Catalogue export for the partner portal",
                expires_at=now + timedelta(days=7),
            )
