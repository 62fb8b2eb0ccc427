"""Demo tenants and logins (demo only: every password is DEMO_PASSWORD, every TOTP secret is derived
from the e-mail and a public constant, so the README can list them)."""

from __future__ import annotations

import base64
import hashlib

from accounts import services
from accounts.models import CustomerProfile, Tenant, User
from accounts.scoping import dangerously_unscoped, tenant_scope
from permissions import demo as permissions_demo
from permissions.models import BuiltinRole, Role
from reviews import demo as reviews_demo

DEMO_PASSWORD = "portcullis-demo"
DEMO_TENANTS = [("acme", "Acme Trading"), ("globex", "Globex")]
# DEMO ONLY. Anyone who reads this file can compute these secrets: never seed a real tenant with them.
DEMO_TOTP_CONSTANT = b"portcullis demo TOTP secret, public, demo only:"


def demo_people(slug: str) -> list[tuple[str, str, str]]:
    """(email, full name, built-in role key) of every demo login of one tenant."""
    people = [
        (f"admin@{slug}.example", "Ada Admin", BuiltinRole.ADMINISTRATOR),
        # A second Administrator, so that four-eyes changes can be shown: one proposes, the other approves.
        (f"admin2@{slug}.example", "Alan Admin", BuiltinRole.ADMINISTRATOR),
        (f"reviewer@{slug}.example", "Rita Reviewer", BuiltinRole.ADVANCED),
    ]
    people += [(f"advanced{n}@{slug}.example", f"Avery Advanced {n}", BuiltinRole.ADVANCED) for n in range(1, 4)]
    people += [(f"basic{n}@{slug}.example", f"Blake Basic {n}", BuiltinRole.BASIC) for n in range(1, 11)]
    return people


def demo_totp_key(email: str) -> bytes:
    """The demo user's TOTP seed (20 bytes), the same on every machine."""
    return hashlib.sha256(DEMO_TOTP_CONSTANT + email.lower().encode()).digest()[:20]


def demo_totp_secret(email: str) -> str:
    """The base32 secret to type into an authenticator app."""
    return base64.b32encode(demo_totp_key(email)).decode().rstrip("=")


def seed() -> list[Tenant]:
    """Create the demo tenants, users and authenticators that are missing; leave existing ones as they are."""
    from accounts.mfa.models import TotpDevice
    from accounts.mfa.services import add_device_with_key

    tenants = []
    for slug, name in DEMO_TENANTS:
        with dangerously_unscoped():  # looking a tenant up by slug is a platform-level read
            tenant = Tenant.objects.filter(slug=slug).first()
        if tenant is None:
            tenant = services.create_tenant(name=name, slug=slug)
        if tenant.mfa_policy != Tenant.MfaPolicy.EVERYONE:
            tenant.mfa_policy = Tenant.MfaPolicy.EVERYONE  # the demo tenants require MFA of everyone
            tenant.save(update_fields=["mfa_policy"])
        tenants.append(tenant)
        with tenant_scope(tenant):
            roles = {role.key: role for role in Role.objects.all()}
            existing = {user.email: user for user in User.objects.all()}
            with_device = set(TotpDevice.objects.filter(confirmed=True).values_list("user__email", flat=True))
            for email, full_name, role_key in demo_people(slug):
                user = existing.get(email)
                if user is None:
                    user = services.create_user(
                        tenant=tenant, email=email, password=DEMO_PASSWORD, role=roles[role_key], full_name=full_name
                    )
                if email not in with_device:
                    add_device_with_key(user, demo_totp_key(email), name="Demo authenticator")
            seed_profiles(tenant)
        from accounts.passkeys import demo as passkeys_demo

        passkeys_demo.seed(tenant)
        permissions_demo.seed(tenant)
        from accessrequests import demo as requests_demo

        requests_demo.seed(tenant)
        reviews_demo.seed(tenant)
        # After the reviews demo: its campaign reviews the demo grants as they were before organisations.
        from permissions import demo_organisations

        demo_organisations.seed(tenant)
        from webhooks import demo as webhooks_demo

        webhooks_demo.seed(tenant)
        from sso import demo as sso_demo

        sso_demo.seed(tenant)
    return tenants


def demo_profile(slug: str, n: int) -> dict:
    """Made-up personal details of the n-th demo user (demo only; encrypted at rest like real ones)."""
    return {
        "company": f"{'Acme' if slug == 'acme' else 'Globex'} Customer {1 + n % 2}",
        "phone": f"+86 138 {slug == 'acme' and '0013' or '0027'} {8000 + n:04d}",
        "address": f"{n + 1} Harbour Road, Shanghai",
        "national_id": f"1101011990030{n:05d}",
        "notes": f"Demo customer {n} of {slug}",
    }


def seed_profiles(tenant: Tenant) -> None:
    """A profile with encrypted personal details for every demo user that has none (call inside the scope)."""
    having = set(CustomerProfile.objects.values_list("user_id", flat=True))
    for n, user in enumerate(User.objects.order_by("email")):
        if user.pk not in having:
            CustomerProfile.objects.create(tenant=tenant, user=user, **demo_profile(tenant.slug, n))
