"""gunicorn for production: ``gunicorn -c portal/gunicorn.conf.py portal.wsgi``.

Web processes are stateless (sessions in the database, read through the Redis cache), so any number run behind a
load balancer. Settings come from the environment like the rest of Portcullis.
"""

import logging
import multiprocessing
import os
import time

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count()))
# gunicorn's sync worker with two socket-level savings per request (one segment per answer, no wait for the
# client's FIN after a complete answer): portal/gunicorn_worker.py says how and why.
worker_class = "portal.gunicorn_worker.PortalSyncWorker"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 5
# gunicorn 27 opens a control socket at one fixed path per user ($HOME/.gunicorn/gunicorn.ctl): two masters on
# one host (two sites, or the test suites side by side) would share it. The portal does not use it.
control_socket_disable = True
# Worker recycling never stalls service (issue 14). A sync worker that reaches max_requests exits after its
# request and the master forks a replacement. Two things made that a ~1 s stall (check API p99 560-680 ms):
# each new worker imported Django itself (about a second of CPU before it could accept), and with
# max_requests 5000 +- 500 under even load both workers came due within the same second, so nobody served.
# - preload_app: the master imports the application once; a replacement is a fork, serving within
#   milliseconds (its first requests open a database connection and fill its permission cache).
# - jitter as wide as max_requests: each worker draws its limit from [N, 2N] (10,000-20,000 requests), so
#   the workers come due at independent times and one always serves while another is replaced.
# - the replacement is forked before the old worker leaves: a worker 500 requests from its limit asks for it,
#   and leaves once it is ready (portal/gunicorn_replacement.py; the hooks below). gunicorn's own order (exit,
#   then fork) left the other worker serving alone for 50-60 ms at each replacement.
# Recycling itself stays: it bounds any slow growth of a worker's memory (caches, fragmentation).
# Trade-off of preload: `kill -HUP` reloads the configuration but not the code; a release restarts the
# master (docs/deployment.md).
preload_app = True
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "10000"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", str(max_requests)))
accesslog = "-"
errorlog = "-"
# gunicorn's logger, building only the access atoms the format below names (the same line, a quarter of the
# access log's cost saved: portal/gunicorn_logging.py).
logger_class = "portal.gunicorn_logging.AccessLogger"
# Requests arrive through a TLS-terminating proxy; only its address may set X-Forwarded-*.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# Request limits (docs/api.md, "Errors"): gunicorn answers past these itself, with a bare text page and before
# the portal sees the request (414 for a request line over 8190 bytes, 431 for a header over 8190 bytes or more
# than 100 headers). Below them the portal answers: for /api/ and /scim/ a URL over 4096 bytes is a 414 and
# headers over 16 KiB together a 431, as problem+json / SCIM errors with a request id (api.input.edge_problem).
limit_request_line = 8190  # gunicorn's maximum, above the portal's own 4096 so the portal answers first
limit_request_fields = 100
limit_request_field_size = 8190

# Logs as the portal writes them (LOG_FORMAT, default json): one JSON object per line; access lines carry
# the request id the portal echoed in X-Request-ID, so a request is followed from the access log into the app's.
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s" %({x-request-id}o)s'
if os.environ.get("LOG_FORMAT", "json").strip().lower() != "text":
    logging.captureWarnings(True)  # Python warnings become log lines (JSON) too, not raw text on stderr
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "json": {"()": "portal.logging.JsonFormatter"},
            "access": {"()": "portal.logging.GunicornAccessFormatter"},
        },
        "handlers": {
            "error": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"},
            "access": {"class": "logging.StreamHandler", "formatter": "access", "stream": "ext://sys.stdout"},
        },
        "root": {"level": "INFO", "handlers": []},  # the portal's own logging (settings.LOGGING) sets its handler
        "loggers": {
            "gunicorn.error": {"handlers": ["error"], "level": "INFO", "propagate": False},
            "gunicorn.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
        },
    }


def when_ready(server):
    """In the master, after the application was loaded (preload) and before the first fork.

    Every worker inherits what is done here: the URL configuration and the views it imports are loaded
    once (else each new worker imported them on its first request), the cache backends are built and the
    models' queries compiled once (portal/warmup.py), and ``gc.freeze()`` moves the loaded objects out of
    the collector's reach, so collections in a worker do not copy the shared pages. The master must hold
    no database connection, or every worker would inherit the same socket: the warm-up closes what it opened.
    """
    import gc

    from django.urls import get_resolver

    from portal import gunicorn_replacement, warmup

    gunicorn_replacement.listen(server)
    warmup.prepare_hand_overs()
    get_resolver()._populate()
    try:
        warmup.in_master()
    except Exception:  # noqa: BLE001 - the database may be down at start; the first requests do the work
        server.log.warning("warm-up in the master skipped", exc_info=True)
        from django.db import connections

        connections.close_all()
    gc.freeze()


def post_worker_init(worker):
    """In a new worker, before it accepts its first request: open its database and cache connections and,
    replacing a retiring worker, load the subjects and resources that worker remembered (portal/warmup.py).

    A worker replaced by max_requests otherwise did this inside its first request (a TCP connection,
    PostgreSQL's authentication and backend start, the cache connection; the first check took 22-27 ms),
    at the moment the other worker was already serving alone: the check API's p99 came from those
    replacements (portal/warmup.py). Jobs, shells and tests never run this hook; a failure here is logged
    and the first request does the work as before.
    """
    from portal import gunicorn_replacement, warmup

    try:
        warmup.in_worker()
        started = time.monotonic()
        loaded = warmup.take_over(getattr(worker, "replaces", None))
        if loaded:
            worker.log.info("took over %d ids in %.0f ms", loaded, (time.monotonic() - started) * 1000)
    except Exception:  # noqa: BLE001 - the database may be down at start; requests will say so (503)
        worker.log.warning("worker warm-up skipped", exc_info=True)
    gunicorn_replacement.ready(worker)


def pre_fork(server, worker):
    from portal import gunicorn_replacement

    gunicorn_replacement.pre_fork(server, worker)


def post_request(worker, req, environ, resp):
    """A worker a little before its max_requests asks the master for its replacement now
    (portal/gunicorn_replacement.py: the replacement forks and warms up while this one serves its last
    requests) and has its queued last-use marks and counts written by its writer thread while it still
    serves: its exit then writes the little left (measured: that write took 11-16 ms)."""
    from portal import gunicorn_replacement

    ahead = gunicorn_replacement.notice(worker.max_requests)
    if ahead and worker.max_requests - worker.nr == ahead:
        from permissions import usage
        from portal import warmup

        try:
            warmup.hand_over()  # before the announce: the replacement reads it as it starts
        except Exception:  # noqa: BLE001 - the replacement then starts cold, as before
            worker.log.warning("hand-over skipped", exc_info=True)
        gunicorn_replacement.announce(worker)
        usage.flush_soon()


def child_exit(server, worker):
    """In the master, after a worker exited: one forked ahead of it has taken its place."""
    from portal import gunicorn_replacement

    gunicorn_replacement.child_exited(server, worker)


def worker_exit(server, worker):
    """A worker retired by max_requests leaves at once, without the interpreter's final clean-up.

    Python's shutdown after a fork walks and releases every object the worker inherited, writing to each
    shared page: CPU taken from the workers that serve. Measured here on a busy machine: 2.5 s from a
    worker's last request to its exit (traced), 0.3 s with ``gc.freeze()`` above, 0.1 s with this hook.
    A retiring worker (its limit reached, or asked to leave by its replacement: portal/gunicorn_replacement.py)
    does what matters first: queued last-use marks written (``permissions.usage``), log lines flushed,
    database connections closed (PostgreSQL sees a clean goodbye). Other exits (shutdown, errors, their exit
    codes) keep the normal path.
    """
    retired = worker.nr >= worker.max_requests or getattr(worker, "retiring", False)
    if not getattr(worker, "booted", False) or not retired:
        return
    import logging
    import sys

    from django.db import connections

    from permissions import usage

    usage.flush()
    connections.close_all()
    logging.shutdown()  # flushes every handler
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    os._exit(0)
