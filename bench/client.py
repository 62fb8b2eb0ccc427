"""The Python client's cached ``check`` (clients/python), against a live portal under production gunicorn.

``python -m bench --only client [--quick]``. bench.api's data set and key; the client (``portcullis_client``,
imported from clients/python/src as an application would after ``pip install ./clients/python``) asks the
portal 2,000 distinct questions once (1,000 users x module and resource targets: these go over HTTP and fill
its cache), then the same questions again, drawn at random, 200,000 times (quick: 20,000). The cache is given a
lifetime of 60 s instead of the default 1 s so that the loop stays within it (the lifetime does not change the
cost of a hit), and the portal is stopped before the loop: a miss would fail the run. Each call is timed with
``perf_counter_ns``; the figures are the median and p99 of a hit. Target (issue 21): cached ``check`` <= 5 us p50.
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from pathlib import Path

from bench.api import SEED, Server, _dataset

ROOT = Path(__file__).resolve().parent.parent
CALLS = {"full": 200_000, "small": 20_000}


def run(args) -> None:
    sys.path.insert(0, str(ROOT / "clients" / "python" / "src"))
    from portcullis_client import Client

    subjects, resources, token, _tenant = _dataset(args.scale, random.Random(SEED))
    rng = random.Random(SEED + 7)
    questions = []
    for subject in rng.sample(subjects, min(1_000, len(subjects))):
        questions.append((subject, "view", "reports"))
        questions.append((subject, "view", {"module": "reports", "resource": rng.choice(resources)}))
    with tempfile.TemporaryDirectory() as work:
        server = Server(Path(work))
        try:
            client = Client(f"http://127.0.0.1:{server.port}", token, cache_ttl=60.0)
            started = time.perf_counter()
            allowed = sum(client.check(*q) for q in questions)
            filled = time.perf_counter() - started
        finally:
            server.stop()
    calls = CALLS[args.scale]
    draws = [questions[rng.randrange(len(questions))] for _ in range(calls)]
    timings = []
    clock = time.perf_counter_ns
    check = client.check
    for subject, action, target in draws:
        t = clock()
        check(subject, action, target)
        timings.append(clock() - t)
    timings.sort()
    p50, p99 = timings[len(timings) // 2] / 1000, timings[int(len(timings) * 0.99)] / 1000
    print(  # noqa: T201
        f"client check over HTTP, filling the cache: {len(questions):,} questions in {filled:.1f} s "
        f"({len(questions) / filled:,.0f}/s; {allowed:,} allowed)"
    )
    print(  # noqa: T201
        f"client cached check: {calls:,} hits, p50 {p50:.2f} us, p99 {p99:.2f} us "
        f"(cache entries {len(client.cache):,}; half module targets, half resource targets)"
    )
    print(f"  met? cached check p50 <= 5 us: {p50 <= 5}")  # noqa: T201
