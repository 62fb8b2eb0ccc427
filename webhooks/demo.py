"""Demo webhook subscription of a tenant (demo only): one subscription, its secret rotated once, left
inactive so the demo sends nothing (its receiver address is the local example one). It fills the webhooks
screens and proves the encrypted secret columns hold no clear text (tests/vault/test_demo_data_at_rest.py)."""

from __future__ import annotations

from django.test.utils import override_settings

from accounts.models import User
from accounts.scoping import tenant_scope
from permissions.models import BuiltinRole
from webhooks import services
from webhooks.models import Subscription

NAME = "Demo receiver (inactive)"
URL = "http://127.0.0.1:9/portcullis-demo-webhooks"  # the discard port: nothing listens there


def seed(tenant) -> None:
    with tenant_scope(tenant):
        if Subscription.objects.filter(name=NAME).exists():
            return
        admin = User.objects.filter(role__key=BuiltinRole.ADMINISTRATOR, is_active=True).order_by("pk").first()
        if admin is None:
            return
        # A local address is refused for real subscriptions in production; this one is never sent to.
        with override_settings(WEBHOOKS_ALLOW_HTTP=True, WEBHOOKS_ALLOW_PRIVATE_TARGETS=True):
            made = services.create_subscription(
                actor=admin, tenant=tenant, name=NAME, url=URL, event_types=["grant.created", "grant.revoked"]
            )
            services.rotate_secret(made.subscription, actor=admin)
            subscription = Subscription.objects.get(pk=made.subscription.pk)
            services.update_subscription(
                subscription,
                actor=admin,
                name=NAME,
                url=URL,
                event_types=subscription.event_types,
                is_active=False,
            )
