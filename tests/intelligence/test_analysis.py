"""The analysis core on matrices with a known answer (no database)."""

import numpy as np
import pytest
from scipy import sparse

from intelligence.analysis import anomalies
from intelligence.analysis.mining import MinedRole, assignment, mine_roles
from intelligence.analysis.peers import labels_of, peer_outliers
from intelligence.analysis.rightsizing import ADD, REMOVE, feedback_factor, right_size
from intelligence.synthetic import evaluate, generate, roles_recovered


def test_small_synthetic_tenant_recovers_the_planted_roles_and_grants():
    """3,000 users, 20 hidden roles, planted over-grants and missing grants: the figures the bench reports."""
    tenant = generate(users=3_000, rights=200, roles=20, seed=7)
    figures = evaluate(tenant)
    assert figures["roles_exact"] >= 18
    assert figures["precision"] >= 0.9
    assert figures["recall"] >= 0.8
    assert figures["removal_recall"] >= 0.7 and figures["addition_recall"] >= 0.7


def test_mining_finds_two_bundles_and_leaves_noise_out():
    x = np.zeros((60, 10), dtype=bool)
    x[:30, [0, 1, 2]] = True
    x[20:60, [5, 6, 7, 8]] = True
    x[3, 9] = True  # one over-grant
    roles = mine_roles(sparse.csr_matrix(x), min_users=5, stop_share=0.01)
    found = sorted(tuple(r.rights.tolist()) for r in roles)
    assert found == [(0, 1, 2), (5, 6, 7, 8)]
    assert {r.coverage for r in roles} == {90, 160}


def test_a_union_of_two_mined_roles_is_not_proposed_as_a_third():
    x = np.zeros((90, 8), dtype=bool)
    x[:60, [0, 1, 2]] = True
    x[30:90, [4, 5, 6]] = True  # users 30–59 hold both: their set is the union, and the most frequent set
    roles = mine_roles(x, min_users=5, stop_share=0.01)
    assert sorted(tuple(r.rights.tolist()) for r in roles) == [(0, 1, 2), (4, 5, 6)]


def test_recovery_is_measured_exactly_and_by_similarity():
    hidden = np.zeros((2, 10), dtype=bool)
    hidden[0, [0, 1, 2]] = True
    hidden[1, [4, 5, 6, 7, 8]] = True
    found = [MinedRole(np.array([0, 1, 2]), np.arange(5), 15), MinedRole(np.array([4, 5, 6, 7]), np.arange(5), 20)]
    assert roles_recovered(hidden, []) == 0
    assert roles_recovered(hidden, found) == 1  # exactly
    assert roles_recovered(hidden, found, min_jaccard=0.8) == 2  # 4 of 5 rights: Jaccard 0.8


def test_near_fit_gives_an_addition_and_a_lone_extra_right_a_removal():
    x = np.zeros((40, 12), dtype=bool)
    x[:, [0, 1, 2, 3, 4]] = True
    x[0, 4] = False  # missing one right of the bundle
    x[1, 10] = True  # held by nobody alike
    roles = mine_roles(x, min_users=5)
    assert assignment(x, roles)[0].all()  # the near fit counts as holding the bundle
    proposals = right_size(x, roles)
    assert proposals.pairs(ADD) == {(0, 4)}
    assert proposals.pairs(REMOVE) == {(1, 10)}
    assert ((proposals.confidence > 0.5) & (proposals.confidence < 1)).all()


def test_recent_use_lowers_a_removal_and_feedback_lowers_its_pattern():
    x = np.zeros((40, 12), dtype=bool)
    x[:, [0, 1, 2]] = True
    x[1, 10] = True
    roles = mine_roles(x, min_users=5)
    idle = np.full(x.shape, np.inf)
    never = right_size(x, roles, idle_days=idle)
    idle[1, 10] = 5
    recent = right_size(x, roles, idle_days=idle, min_confidence=0)
    assert recent.confidence[recent.kinds == REMOVE][0] < never.confidence[never.kinds == REMOVE][0]
    halved = right_size(x, roles, pattern_factor=lambda kind, right: feedback_factor(0, 1), min_confidence=0)
    assert halved.confidence[0] == pytest.approx(never.confidence[0] / 2)
    assert len(right_size(x, roles, pattern_factor=lambda kind, right: feedback_factor(0, 3))) == 0


def test_feedback_factor():
    assert feedback_factor(0, 0) == 1.0
    assert feedback_factor(0, 1) == 0.5
    assert feedback_factor(1, 1) == pytest.approx(2 / 3)


def test_peer_outliers_score_and_abstain_without_enough_peers():
    x = np.zeros((25, 4), dtype=bool)
    x[:, 0] = True
    x[0, 3] = True  # 1 holder among 20 peers of group 0
    x[21, 3] = True  # group 1 has only 4 users: no verdict
    labels = labels_of([0] * 21 + [1] * 4)
    found = peer_outliers(x, labels)
    assert list(zip(found.users.tolist(), found.rights.tolist(), strict=True)) == [(0, 3)]
    assert found.holding[0] == 0 and found.peers[0] == 20
    assert found.score[0] == pytest.approx(1 - 1 / 22)


def test_burst_odd_hour_and_first_of_kind():
    history = [2, 3, 1, 2, 0, 2, 3] * 4
    assert not anomalies.is_burst(6, history)
    assert anomalies.is_burst(60, history)
    assert not anomalies.is_burst(15, [0] * 28)  # under the floor
    hours = [0] * 24
    hours[9], hours[10] = 30, 20
    assert anomalies.is_odd_hour(3, hours, days_seen=20)
    assert not anomalies.is_odd_hour(11, hours, days_seen=20)
    assert not anomalies.is_odd_hour(3, hours, days_seen=2)
    assert anomalies.is_first_of_kind(False, 0, 5)
    assert not anomalies.is_first_of_kind(False, 1, 5)
    assert not anomalies.is_first_of_kind(False, 0, 1)
