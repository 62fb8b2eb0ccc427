"""Sessions live in the database (cached_db, FC-1): the job runner deletes the expired ones."""

from datetime import timedelta

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from portal import jobs

pytestmark = pytest.mark.django_db


def test_the_job_runner_deletes_expired_sessions_and_keeps_live_ones():
    live, old = SessionStore(), SessionStore()
    live["k"], old["k"] = 1, 2
    live.create()
    old.create()
    Session.objects.filter(session_key=old.session_key).update(expire_date=timezone.now() - timedelta(minutes=1))
    results = jobs.run_due_jobs()
    assert results["sessions.clear_expired"] == 1
    assert list(Session.objects.values_list("session_key", flat=True)) == [live.session_key]
