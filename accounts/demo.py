"""Demo tenants and logins (demo only: every password is DEMO_PASSWORD)."""

from __future__ import annotations

from accounts import services
from accounts.models import Tenant, User
from accounts.scoping import dangerously_unscoped, tenant_scope
from permissions import demo as permissions_demo
from permissions.models import BuiltinRole, Role

DEMO_PASSWORD = "portcullis-demo"
DEMO_TENANTS = [("acme", "Acme Trading"), ("globex", "Globex")]


def demo_people(slug: str) -> list[tuple[str, str, str]]:
    """(email, full name, built-in role key) of every demo login of one tenant."""
    people = [
        (f"admin@{slug}.example", "Ada Admin", BuiltinRole.ADMINISTRATOR),
        (f"reviewer@{slug}.example", "Rita Reviewer", BuiltinRole.ADVANCED),
    ]
    people += [(f"advanced{n}@{slug}.example", f"Avery Advanced {n}", BuiltinRole.ADVANCED) for n in range(1, 4)]
    people += [(f"basic{n}@{slug}.example", f"Blake Basic {n}", BuiltinRole.BASIC) for n in range(1, 11)]
    return people


def seed() -> list[Tenant]:
    """Create the demo tenants and users that are missing; leave existing ones as they are."""
    tenants = []
    for slug, name in DEMO_TENANTS:
        with dangerously_unscoped():  # looking a tenant up by slug is a platform-level read
            tenant = Tenant.objects.filter(slug=slug).first()
        if tenant is None:
            tenant = services.create_tenant(name=name, slug=slug)
        tenants.append(tenant)
        with tenant_scope(tenant):
            roles = {role.key: role for role in Role.objects.all()}
            existing = set(User.objects.values_list("email", flat=True))
            for email, full_name, role_key in demo_people(slug):
                if email not in existing:
                    services.create_user(
                        tenant=tenant, email=email, password=DEMO_PASSWORD, role=roles[role_key], full_name=full_name
                    )
        permissions_demo.seed(tenant)
    return tenants
