from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

from portal.jobs import run_due_jobs

HEARTBEAT_KEY = "portcullis:celery:heartbeat"


@shared_task(name="portal.tasks.run_due_jobs_task")
def run_due_jobs_task():
    """Beat's every-minute call; also leaves a heartbeat that /healthz reports."""
    cache.set(HEARTBEAT_KEY, timezone.now().isoformat(), timeout=None)
    return run_due_jobs()
