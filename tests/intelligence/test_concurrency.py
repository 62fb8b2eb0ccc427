"""Two schedulers at once (PostgreSQL row locks): the right-sizing job stores one run, one set of proposals."""

import pytest
from django.utils import timezone

from accounts.scoping import tenant_scope
from intelligence.models import AnalysisRun, RightsizingProposal
from intelligence.services.analysis import store
from tests.intelligence.conftest import event_types
from tests.reviews.test_concurrency import _twice_at_once


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_runs_store_once(acme, colleagues):
    now = timezone.now()

    def run():
        with tenant_scope(acme):
            return store(acme, now)

    results = sorted(_twice_at_once(run))
    assert results[0] == 0 and results[1] >= 2
    with tenant_scope(acme):
        assert AnalysisRun.objects.count() == 1
        keys = list(RightsizingProposal.objects.values_list("user_id", "module_id", "action", "kind"))
    assert len(keys) == len(set(keys)) == results[1]
    assert event_types(acme, "intelligence.analysed").count("intelligence.analysed") == 1
