"""gunicorn for production: ``gunicorn -c portal/gunicorn.conf.py portal.wsgi``.

Web processes are stateless (sessions and cache in Redis), so any number run behind a load
balancer. Settings come from the environment like the rest of Portcullis.
"""

import logging
import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count()))
worker_class = "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 5
max_requests = 5000
max_requests_jitter = 500
accesslog = "-"
errorlog = "-"
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
