"""The analysis of one tenant: its matrix, peer outliers, mined roles and right-sizing proposals.

``analyse`` computes (reads only); ``store`` keeps proposals between reviews (the scheduled job): one
transaction under the tenant's row lock, with one audit event, idempotent (equal input, nothing new).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from django.db import transaction

import audit
from accounts.models import Tenant
from audit.events import EventType
from intelligence.analysis import ALGORITHM_VERSION
from intelligence.analysis.mining import MinedRole, mine_roles
from intelligence.analysis.peers import Outliers, labels_of, peer_outliers
from intelligence.analysis.rightsizing import Proposals, right_size
from intelligence.models import AnalysisRun
from intelligence.services.feedback import pattern_factors
from intelligence.services.storing import store_proposals, store_role_proposals
from intelligence.tenant_matrix import TenantMatrix, build

#: A tenant's analysis runs at most once a day, or sooner (after an hour) when its input changed.
EVERY = timedelta(days=1)
SOONEST = timedelta(hours=1)
#: Small tenants: a role needs this many members; the greedy stops below 1 % of the held cells.
MIN_MEMBERS = 3
STOP_SHARE = 0.01


@dataclass
class Analysis:
    """Everything the pages and the job read."""

    matrix: TenantMatrix
    outliers: Outliers
    roles: list[MinedRole]
    proposals: Proposals
    now: datetime


def analyse(now: datetime, *, outliers_only: bool = False) -> Analysis:
    """The current tenant's analysis at ``now`` (inside its scope; reads only). ``outliers_only`` skips
    mining and right-sizing (the outliers page)."""
    matrix = build(now)
    labels = labels_of(matrix.role_ids, matrix.org_ids) if matrix.user_ids else np.zeros(0, dtype=np.int64)
    outliers = peer_outliers(matrix.x, labels)
    if outliers_only:
        return Analysis(matrix, outliers, [], right_size(matrix.x[:0], []), now)
    roles = mine_roles(matrix.x, min_users=MIN_MEMBERS, stop_share=STOP_SHARE)
    factors = pattern_factors()

    def factor(kind: str, column: int) -> float:
        right = matrix.rights[column]
        return factors.get((kind, right.module_id, right.action), 1.0)

    proposals = right_size(matrix.x, roles, idle_days=matrix.idle_days, labels=matrix.role_ids, pattern_factor=factor)
    return Analysis(matrix, outliers, roles, proposals, now)


def _due(latest: AnalysisRun | None, digest: str, now: datetime) -> bool:
    if latest is None:
        return True
    if latest.input_digest == digest and latest.algorithm == ALGORITHM_VERSION:
        return now - latest.started_at >= EVERY
    return now - latest.started_at >= SOONEST


def _digest(matrix: TenantMatrix, factors: dict) -> str:
    return hashlib.sha256((matrix.digest() + repr(sorted(factors.items()))).encode()).hexdigest()


def store(tenant: Tenant, now: datetime, *, force: bool = False) -> int:
    """Store the tenant's proposals when due (or ``force``): how many proposals are open afterwards, 0 when
    not due. Never changes anyone's access. Two concurrent runs: the second waits for the tenant's row lock,
    then finds the first one's run with the same input and does nothing."""
    with transaction.atomic():
        Tenant.objects.select_for_update().filter(pk=tenant.pk).first()  # one analysis per tenant at a time
        analysis = analyse(now)
        digest = _digest(analysis.matrix, pattern_factors())
        latest = AnalysisRun.objects.order_by("-started_at", "-id").first()
        if not force and not _due(latest, digest, now):
            return 0
        run = AnalysisRun.objects.create(
            tenant=tenant, started_at=now, input_digest=digest, algorithm=ALGORITHM_VERSION
        )
        counts = store_proposals(run, analysis)
        counts.update(store_role_proposals(run, analysis))
        counts.update({"users": len(analysis.matrix.user_ids), "rights": len(analysis.matrix.rights)})
        counts["outliers"] = len(analysis.outliers)
        run.stats = counts
        run.save(update_fields=["stats"])
        audit.record(EventType.INTELLIGENCE_ANALYSED, tenant=tenant, target=run, after=counts)
        return counts["open_proposals"]
