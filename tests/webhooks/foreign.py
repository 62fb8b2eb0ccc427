"""A webhook subscription of a tenant with one delivery, for the AZ-1 walker: (id, a text that must not leak)."""

from accounts.scoping import tenant_scope
from tests.factories import UserFactory, builtin_role


def hook(tenant, kind):
    """The tenant's walker subscription (made on first use) or its delivery; the same pair every time, so a
    URL with both ids gets a delivery of that subscription."""
    from tests.webhooks.conftest import give_grant, subscribe
    from webhooks.models import Subscription

    name = f"Confidential hook of {tenant.slug}"
    with tenant_scope(tenant):
        subscription = Subscription.objects.filter(name=name).first()
    if subscription is None:
        admin = UserFactory(tenant=tenant, role=builtin_role(tenant, "administrator"))
        subscription, _secret = subscribe(admin, "http://127.0.0.1:9/walker", name=name)
        give_grant(admin)
    if kind == "subscription":
        return subscription.pk, subscription.name
    with tenant_scope(tenant):
        delivery = subscription.deliveries.order_by("id").first()
    return delivery.pk, subscription.name
