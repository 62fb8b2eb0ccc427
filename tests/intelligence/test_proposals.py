"""Stored proposals on a real tenant: what they say, that they are never applied, that a second run adds
nothing, and that a reviewer's disagreement lowers the pattern's confidence."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.scoping import tenant_scope
from intelligence.models import AnalysisRun, Feedback, ProposalStatus, RightsizingProposal
from intelligence.services import analysis, feedback
from intelligence.services.analysis import analyse, store
from permissions.models import Grant
from reviews.models import ReviewCampaign, ReviewItem
from reviews.services import campaigns, decisions
from tests.intelligence.conftest import event_types
from tests.reviews.helpers import make_policy

pytestmark = pytest.mark.django_db


def _proposal(user, module_key, action, kind):
    return RightsizingProposal.objects.get(user=user, module__key=module_key, action=action, kind=kind)


def test_the_tenant_matrix_and_the_outlier_with_its_peers(acme, colleagues):
    with tenant_scope(acme):
        result = analyse(timezone.now())
    m = result.matrix
    row = m.user_ids.index(colleagues[19].pk)
    column = [j for j, r in enumerate(m.rights) if (r.module_key, r.action) == ("reports", "delete")][0]
    assert m.x[row, column] and not m.from_role[row, column]
    pairs = set(zip(result.outliers.users.tolist(), result.outliers.rights.tolist(), strict=True))
    assert (row, column) in pairs
    index = list(zip(result.outliers.users.tolist(), result.outliers.rights.tolist(), strict=True)).index((row, column))
    assert (result.outliers.holding[index], result.outliers.peers[index]) == (0, 19)


def test_store_proposes_the_planted_removal_and_addition_and_applies_nothing(acme, colleagues):
    grants_before = set(Grant.objects.dangerously_all_tenants().filter(tenant=acme).values_list("pk", "revoked_at"))
    with tenant_scope(acme):
        assert store(acme, timezone.now()) >= 2
        removal = _proposal(colleagues[19], "reports", "delete", "remove")
        addition = _proposal(colleagues[7], "analytics", "export", "add")
        assert removal.status == addition.status == ProposalStatus.OPEN
        assert removal.reason["holding"] == 0 and removal.reason["idle_days"] is None
        assert addition.reason["bundle_held"] == addition.reason["bundle_size"] - 1
        assert 0.5 <= addition.confidence < 1 and 0.5 <= removal.confidence < 1
    after = set(Grant.objects.dangerously_all_tenants().filter(tenant=acme).values_list("pk", "revoked_at"))
    assert after == grants_before  # suggestions only


def test_a_second_run_with_the_same_input_does_nothing(acme, colleagues):
    now = timezone.now()
    with tenant_scope(acme):
        store(acme, now)
        rows = list(RightsizingProposal.objects.values_list("pk", "confidence", "status"))
        assert store(acme, now + timedelta(minutes=5)) == 0
        assert list(RightsizingProposal.objects.values_list("pk", "confidence", "status")) == rows
        assert AnalysisRun.objects.count() == 1
    assert event_types(acme, "intelligence.analysed").count("intelligence.analysed") == 1


def test_a_forced_run_withdraws_what_it_no_longer_proposes(acme, colleagues):
    with tenant_scope(acme):
        store(acme, timezone.now())
        Grant.objects.filter(user=colleagues[19], module__key="reports").update(revoked_at=timezone.now())
        store(acme, timezone.now(), force=True)
        assert _proposal(colleagues[19], "reports", "delete", "remove").status == ProposalStatus.WITHDRAWN


def test_an_administrator_disagreeing_lowers_the_pattern_next_time(acme, acme_admin, colleagues):
    with tenant_scope(acme):
        store(acme, timezone.now())
        removal = _proposal(colleagues[19], "reports", "delete", "remove")
        first = removal.confidence
        feedback.dismiss(removal, actor=acme_admin, reason="they run the clean-up")
        assert Feedback.objects.get().agreed is False
        result = analyse(timezone.now())
        factor = analysis.pattern_factors()[("remove", removal.module_id, "delete")]
    assert factor == 0.5
    row = result.matrix.user_ids.index(colleagues[19].pk)
    assert first * factor < 0.5
    assert row not in {u for u, _ in result.proposals.pairs("remove")}  # halved below the bar: not proposed again
    assert event_types(acme, "intelligence.feedback").count("intelligence.feedback") == 1


def test_a_reviewer_keeping_the_access_records_a_disagreement(acme, acme_admin, colleagues):
    with tenant_scope(acme):
        store(acme, timezone.now())
    make_policy(acme, fallback=acme_admin, start_date=timezone.now().date())
    with tenant_scope(acme):
        assert campaigns.open_due_campaigns(acme) == 1
        campaign = ReviewCampaign.objects.get(state="open")
        grant = Grant.objects.get(user=colleagues[19], module__key="reports")
        item = ReviewItem.objects.get(campaign=campaign, access_key=f"grant:{grant.pk}")
        shown = item.evidence["intelligence"]
        assert shown["kind"] == "remove" and shown["action"] == "delete" and 0.5 <= shown["confidence"] < 1
        decisions.decide(item, actor=item.reviewer, decision="keep", justification="needed for the clean-up")
        row = Feedback.objects.get()
        assert (row.agreed, row.source, row.kind) == (False, f"review:{item.pk}", "remove")
        decisions.decide(item, actor=item.reviewer, decision="revoke", justification="on second thought")
        assert Feedback.objects.get().agreed is True  # corrected, not counted twice


def test_the_scheduler_runs_the_job_once_a_day(acme, colleagues):
    from portal.jobs import run_due_jobs

    now = timezone.now()
    assert run_due_jobs(now)["intelligence.rightsizing"] >= 2
    assert run_due_jobs(now + timedelta(hours=2))["intelligence.rightsizing"] == 0  # same input, same day
    assert run_due_jobs(now + timedelta(days=1, minutes=1))["intelligence.rightsizing"] >= 2
    with tenant_scope(acme):
        assert AnalysisRun.objects.count() == 2


def test_the_review_page_shows_the_confidence_and_the_reason(acme, acme_admin, colleagues):
    from reviews.presenting import decorate

    with tenant_scope(acme):
        store(acme, timezone.now())
    make_policy(acme, fallback=acme_admin, start_date=timezone.now().date())
    with tenant_scope(acme):
        campaigns.open_due_campaigns(acme)
        grant = Grant.objects.get(user=colleagues[19], module__key="reports")
        item = decorate([ReviewItem.objects.get(access_key=f"grant:{grant.pk}")])[0]
    assert item.intelligence_text.startswith("Access intelligence proposes removing Delete (confidence 92 %)")
    assert "0 of 11 comparable users" in item.intelligence_text
