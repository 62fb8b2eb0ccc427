"""Celery for production: a worker runs the jobs, beat calls ``run_due_jobs`` every minute.

Start with ``celery -A portal worker`` and ``celery -A portal beat`` (REDIS_URL is the broker).
The embedded default needs none of this: ``make run`` runs the same entry point in a loop.
"""

import os

from celery import Celery
from celery.signals import worker_init, worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portcullis")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.beat_schedule = {
    "run-due-jobs": {"task": "portal.tasks.run_due_jobs_task", "schedule": 60.0},
}
app.autodiscover_tasks(["portal"])


@worker_init.connect
@worker_process_init.connect
def _job_priority(**kwargs):
    """The worker (whatever its pool) and each of its processes run the jobs at ``JOBS_NICENESS``
    (``portal.jobs.lower_priority``): the web answers first."""
    from portal.jobs import lower_priority

    lower_priority()
