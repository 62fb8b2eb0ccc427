"""SCIM provisioning cycle under the production gunicorn configuration (issue 23).

``python -m bench --only scim [--quick]``. The server is the one ``bench.api`` runs (``gunicorn -c
portal/gunicorn.conf.py portal.wsgi``, production logging). A new tenant, a SCIM key of its administrator;
then, as an identity provider does, from 4 client threads in another process:

1. initial provisioning: ``POST /scim/v2/Users`` for every user (10,000; quick: 500);
2. a full resync that changes nothing, as Okta and Entra ID run it on every cycle: for each user,
   ``GET /scim/v2/Users?filter=userName eq "…"`` then ``PUT`` of the same representation.

Printed: seconds and requests/s of each phase, p50/p99 of a resync round (filter + PUT), errors, and what the
resync wrote: audit events and the tenant's authorization version before and after (both must be unchanged).
Target (issue 23): the 10,000-user resync in at most 60 s. Any non-2xx answer fails the run.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.api import Server

SIZES = {"full": 10_000, "small": 500}
THREADS = 4
TARGET_SECONDS = 60

CLIENT = r"""
import http.client, json, sys, threading, time
from urllib.parse import quote
port, token, phase, count, threads = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
headers = {"Authorization": "Bearer " + token, "Content-Type": "application/scim+json"}
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
def body(n):
    return {"schemas": [USER], "userName": f"person{n}@bench.example", "externalId": f"idp-{n:06d}",
            "name": {"givenName": f"Given{n}", "familyName": "Bench"}, "displayName": f"Given{n} Bench",
            "emails": [{"value": f"person{n}@bench.example", "type": "work", "primary": True}], "active": True}
errors, rounds = [], []
def ask(conn, method, path, payload=None):
    for attempt in range(3):
        try:
            conn.request(method, path, json.dumps(payload) if payload is not None else None, headers)
            r = conn.getresponse(); data = r.read()
            return r.status, data
        except (OSError, http.client.HTTPException):
            conn.close()
    return 0, b""
def work(k):
    conn = http.client.HTTPConnection("127.0.0.1", int(port))
    mine = []
    for n in range(k, count, threads):
        t = time.perf_counter()
        if phase == "provision":
            status, _ = ask(conn, "POST", "/scim/v2/Users", body(n))
            if status != 201: errors.append((n, status))
        else:
            status, data = ask(conn, "GET", "/scim/v2/Users?filter=" + quote(f'userName eq "person{n}@bench.example"'))
            found = json.loads(data or b"{}").get("Resources") or [] if status == 200 else []
            if len(found) != 1:
                errors.append((n, status)); continue
            status, _ = ask(conn, "PUT", "/scim/v2/Users/" + found[0]["id"], body(n))
            if status != 200: errors.append((n, status))
        mine.append(time.perf_counter() - t)
    rounds.extend(mine)
started = time.monotonic()
ts = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
[t.start() for t in ts]; [t.join() for t in ts]
elapsed = time.monotonic() - started
rounds.sort()
print(json.dumps({"elapsed": elapsed, "done": len(rounds), "errors": len(errors), "first_errors": errors[:5],
                  "p50": rounds[len(rounds) // 2] if rounds else 0,
                  "p99": rounds[min(len(rounds) - 1, int(len(rounds) * 0.99))] if rounds else 0}))
"""


def _tenant(scale: str):
    from accounts import services as accounts_services
    from accounts.scoping import tenant_scope
    from api import keys
    from permissions.models import BuiltinRole, Role

    slug = f"bench-scim-{scale}-{int(time.time())}"
    tenant = accounts_services.create_tenant(name="Bench SCIM", slug=slug)
    with tenant_scope(tenant):
        admin = accounts_services.create_user(
            tenant=tenant,
            email=f"admin@{slug}.example",
            password=None,
            role=Role.objects.get(key=BuiltinRole.ADMINISTRATOR),
        )
        issued = keys.create_key(
            actor=admin,
            name="bench scim",
            scopes={"users": ["view", "create", "change", "delete"], "groups": ["view", "create", "change"]},
            scim=True,
            rate_per_minute=1_000_000,
        )
    return tenant, issued.token


def _state(tenant) -> tuple[int, int]:
    """(audit events, stored authorization version) of the tenant."""
    from accounts.scoping import tenant_scope
    from audit.models import AuditEvent
    from permissions.versioning import stored_version

    with tenant_scope(tenant):
        return AuditEvent.objects.count(), stored_version(tenant.pk)


def _phase(port: int, token: str, phase: str, count: int) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", CLIENT, str(port), token, phase, str(count), str(THREADS)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def run(args) -> None:
    count = SIZES[args.scale]
    tenant, token = _tenant(args.scale)
    with tempfile.TemporaryDirectory() as work:
        server = Server(Path(work))
        try:
            provision = _phase(server.port, token, "provision", count)
            before = _state(tenant)
            resync = _phase(server.port, token, "resync", count)
            after = _state(tenant)
        finally:
            server.stop()
    for name, result, requests in (
        ("provision (POST)", provision, count),
        ("resync (filter + PUT)", resync, 2 * count),
    ):
        print(  # noqa: T201
            f"  SCIM {name:22s} {count:,} users in {result['elapsed']:.1f} s ({requests / result['elapsed']:,.0f} "
            f"requests/s, {THREADS} client threads), per user p50 {result['p50'] * 1000:.1f} ms, "
            f"p99 {result['p99'] * 1000:.1f} ms, errors {result['errors']}"
        )
    print(  # noqa: T201
        f"  resync wrote {after[0] - before[0]} audit events; authorization version {before[1]} -> {after[1]}"
    )
    print(f"  target: a {SIZES['full']:,}-user resync that changes nothing in at most {TARGET_SECONDS} s")  # noqa: T201
    failed = []
    if provision["errors"] or resync["errors"]:
        failed.append(f"errors: {provision['first_errors'] or resync['first_errors']}")
    if after != before:
        failed.append("the resync changed the audit trail or the authorization version")
    if failed:
        raise SystemExit("SCIM benchmark failed: " + "; ".join(failed))
