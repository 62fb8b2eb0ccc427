"""Job processes run at JOBS_NICENESS (portal.jobs.lower_priority): the Celery worker's and ``run_due_jobs``.
Each case runs in a process of its own (niceness cannot be lowered again once raised), which starts at the
test run's own niceness: the expectations are relative to it."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BASE = os.nice(0)  # this test run's niceness, which each process below starts from


def _run(code: str, settings: str = "portal.test_settings", **env) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": settings, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout.split()


def _expected(niceness: int) -> str:
    return str(max(BASE, niceness))


SETUP = """
import os, django
django.setup()
from portal.jobs import lower_priority
"""


def test_production_runs_jobs_at_niceness_10():
    code = SETUP + "from django.conf import settings; print(settings.JOBS_NICENESS)"
    assert _run(code, settings="portal.settings", JOBS_NICENESS="") == ["10"]


def test_a_job_process_takes_the_configured_niceness_once():
    out = _run(SETUP + "print(os.nice(0), lower_priority(), lower_priority(), os.nice(0))", JOBS_NICENESS="10")
    assert out == [str(BASE), _expected(10), _expected(10), _expected(10)]  # a second call changes nothing


def test_the_niceness_is_a_setting_and_zero_leaves_the_process_alone():
    assert _run(SETUP + "print(lower_priority())", JOBS_NICENESS="5") == [_expected(5)]
    assert _run(SETUP + "print(lower_priority())", JOBS_NICENESS="0") == [str(BASE)]


def test_a_process_already_nicer_is_left_as_it_is():
    out = _run("import os; os.nice(15)\n" + SETUP + "print(os.nice(0), lower_priority())", JOBS_NICENESS="10")
    assert out[0] == out[1] and int(out[1]) >= 15


COMMAND = """
from unittest import mock
from django.core.management import call_command
seen = []
with mock.patch("portal.management.commands.run_due_jobs.run_due_jobs", lambda: seen.append(os.nice(0)) or {}):
    call_command("run_due_jobs")
print(seen[0])
"""

CELERY = """
from celery.signals import worker_init, worker_process_init
import portal.celery
worker_init.send(sender=None)
first = os.nice(0)
worker_process_init.send(sender=None)
print(first, os.nice(0))
"""


def test_the_job_runner_command_runs_at_the_jobs_niceness():
    assert _run(SETUP + COMMAND, JOBS_NICENESS="10")[-1] == _expected(10)  # the jobs run after it lowered it


def test_the_celery_worker_and_its_processes_run_at_the_jobs_niceness():
    assert _run(SETUP + CELERY, JOBS_NICENESS="10") == [_expected(10), _expected(10)]


def test_the_test_run_itself_is_never_lowered_by_a_job_command():
    assert _run(SETUP + COMMAND)[-1] == str(BASE)  # test settings: 0, whatever a test calls in-process
