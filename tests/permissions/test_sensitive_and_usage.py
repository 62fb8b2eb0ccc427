"""AZ-9 (sensitive fields masked unless view_sensitive) and last-use records."""

from datetime import timedelta

import time_machine
from django.utils import timezone

from accounts.scoping import tenant_scope
from permissions.models import UsageRecord
from permissions.sensitive import MASK, mask_rows, visible_attributes
from permissions.services import grants
from permissions.usage import record_use
from permissions.versioning import request_versions
from permissions.vocabulary import Action


def test_az9_sensitive_attributes_are_masked_without_view_sensitive(acme, acme_admin, acme_advanced, report, reports):
    assert visible_attributes(acme_advanced, report) == {"revenue": MASK, "region": "EMEA"}
    assert visible_attributes(acme_admin, report) == {"revenue": "1.2M", "region": "EMEA"}
    with tenant_scope(acme):
        grants.grant(
            actor=acme_admin,
            module=reports,
            resource=report,
            user=acme_advanced,
            actions=[Action.VIEW_SENSITIVE],
            reason="finance audit",
        )
    assert visible_attributes(acme_advanced, report)["revenue"] == "1.2M"


def test_az9_masking_a_page_of_rows(acme, acme_basic, report, other_report, django_assert_max_num_queries):
    with request_versions(), django_assert_max_num_queries(4):  # the version row, the set, a page, the keys
        rows = mask_rows(acme_basic, [report, other_report])
    assert [attrs["revenue"] for _r, attrs in rows] == [MASK, MASK]
    assert "1.2M" not in repr(rows[0][1])


def test_usage_is_written_once_per_key_per_day(acme, acme_advanced, report, django_assert_num_queries):
    with tenant_scope(acme):
        assert record_use(acme_advanced, Action.VIEW, report)
        with django_assert_num_queries(0):
            assert not record_use(acme_advanced, Action.VIEW, report)
        assert record_use(acme_advanced, Action.EXPORT, "reports")
        assert UsageRecord.objects.count() == 2
        with time_machine.travel(timezone.now() + timedelta(days=1)):
            assert record_use(acme_advanced, Action.VIEW, report)
            row = UsageRecord.objects.get(target_key=f"r{report.pk}", action="view")
            assert row.last_used_at.date() == timezone.now().date()
        assert UsageRecord.objects.count() == 2
