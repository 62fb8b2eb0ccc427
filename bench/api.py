"""Check API throughput under gunicorn (2 sync workers) with a load generator in another process.

Single checks (``POST /api/v1/check``) and batches of 100 (``POST /api/v1/check/batch``): requests/s,
checks/s, p50/p99 latency, on loopback, bounded duration. The generator is ``wrk`` when installed
(Debian package), else a small Python client (threads, http.client keep-alive) in a subprocess.
Targets (issue 9): ≥ 1,500 single checks/s with p99 ≤ 5 ms; ≥ 50,000 checks/s in batches of 100.
Run: ``DATABASE_URL=postgres://postgres@127.0.0.1:5432/api_bench REDIS_URL=redis://127.0.0.1:6379/7
python -m bench --only api --scale small``.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CLIENT = r"""
import http.client, json, sys, threading, time
host, port, path, token, bodies_file, seconds, threads = sys.argv[1:8]
bodies = [b.encode() for b in json.load(open(bodies_file))]
seconds, threads = float(seconds), int(threads)
headers = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
lat, errors, stop = [], [0], time.monotonic() + seconds
def worker(n):
    conn = http.client.HTTPConnection(host, int(port))
    i = n
    mine = []
    while time.monotonic() < stop:
        body = bodies[i % len(bodies)]; i += threads
        t = time.perf_counter()
        conn.request("POST", path, body, headers)
        r = conn.getresponse(); r.read()
        mine.append(time.perf_counter() - t)
        if r.status != 200: errors[0] += 1
    lat.extend(mine)
ts = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
start = time.monotonic()
[t.start() for t in ts]; [t.join() for t in ts]
elapsed = time.monotonic() - start
lat.sort()
print(json.dumps({"requests": len(lat), "elapsed": elapsed, "errors": errors[0],
                  "p50": lat[len(lat)//2], "p99": lat[min(len(lat)-1, int(len(lat)*0.99))]}))
"""

WRK_SCRIPT = r"""
local bodies = {}
for line in io.lines(os.getenv("BODIES")) do bodies[#bodies + 1] = line end
local i = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
request = function()
  i = i + 1
  return wrk.format(nil, nil, nil, bodies[(i % #bodies) + 1])
end
done = function(summary, latency, requests)
  io.write(string.format("JSON {\"requests\": %d, \"elapsed\": %f, \"errors\": %d, \"p50\": %f, \"p99\": %f}\n",
    summary.requests, summary.duration / 1e6, summary.errors.status + summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout, latency:percentile(50) / 1e6, latency:percentile(99) / 1e6))
end
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _dataset(users: int, resources: int):
    """A tenant with users, resources and grants; a key of its administrator (high rate limit)."""
    from accounts import services as accounts_services
    from accounts.scoping import tenant_scope
    from api import keys
    from permissions.models import BuiltinRole, Module, Role
    from permissions.services import grants, modules

    slug = f"bench-api-{int(time.time())}"
    tenant = accounts_services.create_tenant(name="Bench API", slug=slug)
    with tenant_scope(tenant):
        roles = {r.key: r for r in Role.objects.all()}
        admin = accounts_services.create_user(
            tenant=tenant, email=f"admin@{slug}.example", password=None, role=roles[BuiltinRole.ADMINISTRATOR]
        )
        people = [
            accounts_services.create_user(
                tenant=tenant,
                email=f"u{n}@{slug}.example",
                password=None,
                role=roles[random.choice([BuiltinRole.BASIC, BuiltinRole.ADVANCED])],
            )
            for n in range(users)
        ]
        reports = Module.objects.get(key="reports")
        items = [modules.create_resource(actor=None, module=reports, title=f"R{n}") for n in range(resources)]
        for person in random.sample(people, min(len(people), users // 2)):
            grants.grant(
                actor=None,
                module=reports,
                actions=["change"],
                reason="bench",
                user=person,
                resource=random.choice(items),
            )
        issued = keys.create_key(actor=admin, name="bench", scopes={"grants": ["view"]}, rate_per_minute=1_000_000)
    return people, items, issued.token


def _checks(people, items, count: int) -> list[dict]:
    actions = ["view", "export", "change", "delete"]
    out = []
    for _ in range(count):
        target = {"module": random.choice(["products", "reports", "analytics"])}
        if random.random() < 0.5:
            target = {"module": "reports", "resource": random.choice(items).pk}
        out.append({"subject": random.choice(people).pk, "action": random.choice(actions), "target": target})
    return out


def _cpu_seconds(master_pid: int) -> float:
    """CPU time (user + system) used so far by gunicorn's workers (children of the master)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    try:
        children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    except OSError:
        return 0.0
    for child in children:
        try:
            fields = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / ticks


def _measured(server, port, path, token, bodies, seconds, concurrency) -> dict:
    """A load run with the CPU the server's workers and the load generator spent on it."""
    import resource

    before_server = _cpu_seconds(server.pid)
    before_client = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = _load(port, path, token, bodies, seconds, concurrency)
    after_client = resource.getrusage(resource.RUSAGE_CHILDREN)
    result["server_cpu"] = _cpu_seconds(server.pid) - before_server
    result["client_cpu"] = (after_client.ru_utime + after_client.ru_stime) - (
        before_client.ru_utime + before_client.ru_stime
    )
    return result


def _load(port, path, token, bodies, seconds, concurrency) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        if shutil.which("wrk"):
            handle.write("\n".join(bodies))
        else:
            json.dump(bodies, handle)
        bodies_file = handle.name
    if shutil.which("wrk"):
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
            script.write(WRK_SCRIPT)
        env = {**os.environ, "BODIES": bodies_file, "TOKEN": token}
        out = subprocess.run(
            [
                "wrk",
                "-t1",
                f"-c{concurrency}",
                f"-d{int(seconds)}s",
                "-s",
                script.name,
                f"http://127.0.0.1:{port}{path}",
            ],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        ).stdout
        result = json.loads(re.search(r"^JSON (.*)$", out, re.M).group(1))
        result["generator"] = "wrk"
        return result
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            CLIENT,
            "127.0.0.1",
            str(port),
            path,
            token,
            bodies_file,
            str(seconds),
            str(concurrency),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    result = json.loads(out.strip().splitlines()[-1])
    result["generator"] = "python threads"
    return result


def run(args) -> None:
    full = args.scale == "full"
    load_before = os.getloadavg()
    # The working set: every (subject, target) of the sample is asked once before measuring (warm, S8/S9);
    # a cold per-object answer costs the engine one query (S2), measured by the permissions bench.
    people, items, token = _dataset(users=500 if full else 100, resources=500 if full else 100)
    seconds = 15 if full else 5
    port = _free_port()
    env = {**os.environ, "PORTCULLIS_HTTPS": "0", "LOG_LEVEL": "WARNING", "ALLOWED_HOSTS": "127.0.0.1"}
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "portal.wsgi",
            "-w",
            "2",
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        sample = _checks(people, items, 5000)
        singles = [json.dumps(c) for c in sample]
        batches = [json.dumps({"checks": sample[n : n + 100]}) for n in range(0, len(sample), 100)]
        # warm both workers (targets, compiled sets, object answers) with the whole sample, several times
        # so that each worker sees every batch
        _load(port, "/api/v1/check/batch", token, batches, 15 if full else 8, 2)
        single = _measured(server, port, "/api/v1/check", token, singles, seconds, 4)
        batch = _measured(server, port, "/api/v1/check/batch", token, batches, seconds, 2)
    finally:
        server.terminate()
        server.wait(timeout=10)
    for name, result, per in (("single", single, 1), ("batch of 100", batch, 100)):
        rps = result["requests"] / result["elapsed"]
        print(  # noqa: T201
            f"check API {name:13s} ({result['generator']}): {rps:8,.0f} req/s = {rps * per:9,.0f} checks/s, "
            f"p50 {result['p50'] * 1000:.2f} ms, p99 {result['p99'] * 1000:.2f} ms, errors {result['errors']}"
        )
        if result["requests"]:
            server_ms = result["server_cpu"] / result["requests"] * 1000
            client_ms = result["client_cpu"] / result["requests"] * 1000
            # What 2 otherwise idle cores would sustain at this CPU cost per request (server + generator).
            capacity = 2 / ((server_ms + client_ms) / 1000)
            print(  # noqa: T201
                f"    CPU per request: server {server_ms:.3f} ms, load generator {client_ms:.3f} ms; "
                f"2 idle cores would serve about {capacity:,.0f} req/s = {capacity * per:,.0f} checks/s"
            )
    print(f"load average before/after (other processes share these 2 cores): {load_before} / {os.getloadavg()}")  # noqa: T201
    print("targets: single >= 1,500 checks/s with p99 <= 5 ms; batch >= 50,000 checks/s")  # noqa: T201
