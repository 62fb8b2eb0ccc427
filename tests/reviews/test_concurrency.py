"""Two schedulers at once (PostgreSQL row locks): a campaign opens once, an item is applied once."""

import threading

import pytest
from django.db import connection, connections
from django.utils import timezone

from accounts.scoping import tenant_scope
from audit.models import AuditEvent
from reviews.models import ReviewCampaign, ReviewItem
from reviews.services import applying, campaigns, decisions
from tests.factories import UserFactory
from tests.reviews.helpers import grant_on, make_policy


def _twice_at_once(func):
    """Run ``func`` in two threads released together; return both results."""
    barrier, results = threading.Barrier(2), []

    def worker():
        try:
            barrier.wait()
            results.append(func())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_open_once_and_apply_once(acme, acme_admin, acme_reviewer):
    if connection.vendor != "postgresql":
        pytest.skip("row-lock concurrency needs PostgreSQL")
    subjects = [UserFactory(tenant=acme) for _ in range(3)]
    made = [grant_on(acme, s) for s in subjects]
    make_policy(acme, fallback=acme_reviewer, include_roles=False, start_date=timezone.now().date())

    def open_now():
        with tenant_scope(acme):
            return campaigns.open_due_campaigns(acme)

    assert sorted(_twice_at_once(open_now)) == [0, 1]
    with tenant_scope(acme):
        campaign = ReviewCampaign.objects.get(state="open")
        assert ReviewItem.objects.filter(campaign=campaign).count() == campaign.item_count
        for item in ReviewItem.objects.filter(campaign=campaign, grant__in=made):
            decisions.decide(item, actor=acme_admin, decision="revoke", justification="gone")
        campaigns.close_campaign(campaign, actor=None)

    def apply_now():
        with tenant_scope(acme):
            return applying.apply_campaign(ReviewCampaign.objects.get(pk=campaign.pk))

    assert sorted(_twice_at_once(apply_now)) == [0, 3]
    with tenant_scope(acme):
        revoked = AuditEvent.objects.filter(event_type="grant.revoked", target_id__in=[str(g.pk) for g in made])
        assert revoked.count() == 3
        assert AuditEvent.objects.filter(event_type="review.campaign_applied").count() == 1
