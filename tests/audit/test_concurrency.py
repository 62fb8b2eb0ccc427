"""Gapless positions under real concurrency: 4 OS processes append 250 events each to one tenant at once."""

import subprocess
import sys
import textwrap
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

from accounts.models import Tenant
from accounts.scoping import tenant_scope
from audit.models import AuditEvent
from audit.verify import verify_tenant

ROOT = Path(__file__).resolve().parents[2]
WRITER = textwrap.dedent(
    """
    import os, sys, time
    import django
    django.setup()
    from django.db import transaction
    import audit
    from accounts.models import Tenant
    from audit.events import EventType
    from audit.recording import Target

    worker, tenant_id, start = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    tenant = Tenant.objects.get(pk=tenant_id)
    open(start + f".ready-{worker}", "w").close()  # the handshake: set up, waiting at the line
    while not os.path.exists(start):
        time.sleep(0.005)
    for i in range(250):
        with transaction.atomic():
            audit.record(EventType.USER_CHANGED, tenant=tenant, target=Target("demo.thing", f"{worker}-{i}"),
                         after={"worker": int(worker), "n": i})
    """
)


def _database_url() -> str:
    s = connection.settings_dict
    credentials = quote(s["USER"]) + (f":{quote(s['PASSWORD'])}" if s["PASSWORD"] else "")
    return f"postgres://{credentials}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_four_processes_append_1000_events_without_gaps_or_duplicates(tmp_path):
    tenant = Tenant.objects.create(name="Busy", slug="busy")  # no creation event: the log starts empty
    start = tmp_path / "go"
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "portal.test_settings",
        "DATABASE_URL": _database_url(),
        "PORTCULLIS_VAR_DIR": str(tmp_path),
    }
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(n), str(tenant.pk), str(start)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for n in range(4)
    ]
    ready = [tmp_path / f"go.ready-{n}" for n in range(4)]
    deadline = time.monotonic() + 120
    while not all(path.exists() for path in ready):  # all four have started Django and wait at the line
        assert time.monotonic() < deadline, "the writers did not all start"
        assert all(writer.poll() is None for writer in writers), "a writer ended before the start"
        time.sleep(0.01)
    start.touch()
    for writer in writers:
        _out, err = writer.communicate(timeout=180)
        assert writer.returncode == 0, err.decode()[-2000:]
    with tenant_scope(tenant):
        positions = list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True))
        workers = [event.payload["after"]["worker"] for event in AuditEvent.objects.all()]
    per_worker = {w: workers.count(w) for w in range(4)}
    assert positions == list(range(1000))
    assert per_worker == {0: 250, 1: 250, 2: 250, 3: 250}
    report = verify_tenant(tenant)
    assert report.ok and report.events == 1000
