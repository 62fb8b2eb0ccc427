"""The access-intelligence jobs the scheduler runs (portal.jobs), each idempotent, per tenant:
right-sizing proposals stored between reviews (never applied), and alerts on unusual use."""

from __future__ import annotations

from portal import jobs


def _flush_then_detect(tenant, now):
    from intelligence import counting
    from intelligence.services.anomalies import detect

    counting.flush()  # this process's own queued counts first
    return detect(tenant, now)


def register_jobs() -> None:
    """Register the jobs (AppConfig.ready)."""
    from intelligence.services.analysis import store

    jobs.register("intelligence.rightsizing", store)
    jobs.register("intelligence.anomalies", _flush_then_detect)
