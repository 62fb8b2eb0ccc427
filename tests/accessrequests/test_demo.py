"""The demo seed leaves pending and decided requests and grants about to expire (idempotent)."""

from datetime import timedelta

from django.utils import timezone

from accessrequests.jobs import send_expiry_notices
from accessrequests.models import AccessRequest
from accounts import demo
from accounts.scoping import tenant_scope
from permissions.models import Grant, Provenance


def test_demo_requests_are_seeded_once(db):
    acme, _globex = demo.seed()
    demo.seed()
    with tenant_scope(acme):
        statuses = sorted(AccessRequest.objects.values_list("status", flat=True))
        assert statuses.count("pending") == 3 and statuses.count("approved") == 2 and statuses.count("denied") == 1
        from_requests = Grant.objects.filter(provenance=Provenance.REQUEST)
        assert from_requests.count() == 2
        assert all(g.expires_at <= timezone.now() + timedelta(days=7) for g in from_requests)
        assert AccessRequest.objects.filter(status="pending", module__key="users").exists()  # four-eyes case
        assert send_expiry_notices(acme) >= 2  # grants about to expire are announced
