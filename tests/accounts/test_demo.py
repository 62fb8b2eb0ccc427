"""Demo data: every demo user has an authenticator whose secret the README lists; seeding is idempotent."""

import base64
from io import StringIO
from pathlib import Path

from django.core.management import call_command

from accounts import demo
from accounts.mfa.models import TotpDevice
from accounts.models import Tenant, User
from accounts.scoping import dangerously_unscoped, tenant_scope
from tests.accounts.mfa_helpers import code_at, now_t

README = Path(__file__).resolve().parents[2] / "README.md"


def test_seed_demo_gives_every_user_one_authenticator_and_is_idempotent(db):
    out = StringIO()
    call_command("seed_demo", stdout=out)
    call_command("seed_demo", stdout=StringIO())
    with dangerously_unscoped():
        tenants = list(Tenant.objects.filter(slug__in=["acme", "globex"]))
    assert {t.mfa_policy for t in tenants} == {Tenant.MfaPolicy.EVERYONE}
    for tenant in tenants:
        with tenant_scope(tenant):
            users = list(User.objects.all())
            assert len(users) == 16
            # Two Administrators, so that four-eyes can be shown (issue 13).
            admins = sorted(u.email for u in users if u.role.key == "administrator")
            assert admins == [f"admin2@{tenant.slug}.example", f"admin@{tenant.slug}.example"]
            for user in users:
                [device] = TotpDevice.objects.filter(user=user)
                assert device.key_bytes() == demo.demo_totp_key(user.email)
    printed = out.getvalue()
    assert demo.demo_totp_secret("admin@acme.example") in printed
    assert "admin2@acme.example" in printed and demo.demo_totp_secret("admin2@acme.example") in printed
    assert demo.demo_totp_secret("basic10@globex.example") in printed


def test_the_readme_lists_each_demo_secret():
    text = README.read_text()
    for slug, _name in demo.DEMO_TENANTS:
        for email, _full, _role in demo.demo_people(slug):
            assert f"`{email}` | `{demo.demo_totp_secret(email)}`" in text


def test_a_demo_secret_produces_codes_an_app_would_show(db):
    secret = demo.demo_totp_secret("admin@acme.example")
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    assert key == demo.demo_totp_key("admin@acme.example") and len(key) == 20
    assert len(code_at(key, now_t())) == 6
