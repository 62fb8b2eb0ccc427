"""gunicorn for production: ``gunicorn -c portal/gunicorn.conf.py portal.wsgi``.

Web processes are stateless (sessions and cache in Redis), so any number run behind a load
balancer. Settings come from the environment like the rest of Portcullis.
"""

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
