# Portcullis: `make run` (portal with demo data on SQLite) and `make test` (the whole suite).
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
WITNESS_PORT ?= 8009
# The links of e-mails (invitations, resets, notices) point at the port the portal really serves.
PORTCULLIS_BASE_URL ?= http://$(HOST):$(PORT)
export PORTCULLIS_BASE_URL

.PHONY: run test test-fast lint format bench install messages browser axe wrk sso-provider saml-provider clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: install
	PORTCULLIS_HTTPS=0 PORTCULLIS_DEMO=1 $(PY) manage.py migrate --noinput
	PORTCULLIS_HTTPS=0 PORTCULLIS_DEMO=1 $(PY) manage.py collectstatic --noinput --verbosity 0
	PORTCULLIS_HTTPS=0 PORTCULLIS_DEMO=1 $(PY) manage.py seed_demo --if-empty
	@echo "Portcullis: http://$(HOST):$(PORT)/  (background jobs every minute: var/jobs.log; audit witness: var/witness/)"
	@mkdir -p var/witness; \
	  $(PY) -m audit.witness --key var/witness/key --name portcullis-demo-witness --vkey > var/witness/vkey; \
	  $(PY) -m audit.witness --key var/witness/key --name portcullis-demo-witness --state var/witness/state.sqlite3 \
	    --logs var/witness/logs.txt --listen 127.0.0.1:$(WITNESS_PORT) >> var/witness/witness.log 2>&1 & witness=$$!; \
	  trap 'kill $$witness $$jobs 2>/dev/null' EXIT INT TERM; touch var/witness/logs.txt; sleep 1; \
	  PORTCULLIS_HTTPS=0 PORTCULLIS_DEMO=1 $(PY) manage.py audit_demo_witness --vkey-file var/witness/vkey \
	    --logs var/witness/logs.txt --url http://127.0.0.1:$(WITNESS_PORT); \
	  PORTCULLIS_HTTPS=0 PORTCULLIS_DEMO=1 $(PY) manage.py run_due_jobs --loop 60 >> var/jobs.log 2>&1 & jobs=$$!; \
	  PORTCULLIS_HTTPS=0 PORTCULLIS_DEMO=1 LOG_FORMAT=text $(PY) manage.py runserver --insecure $(HOST):$(PORT)

# Browser tests need Debian's chromium; install it when we can (root with apt), else they are skipped.
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || \
	  echo "chromium not installed: browser tests will be skipped"; }

# The single sign-on tests run a real OpenID Connect provider: node's oidc-provider, versions pinned by
# tests/sso/oidc_provider/package-lock.json (node and npm from apt when missing and we can).
sso-provider:
	@command -v npm >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null); }
	@[ -d tests/sso/oidc_provider/node_modules/oidc-provider ] || \
	  npm ci --prefix tests/sso/oidc_provider --no-audit --no-fund --loglevel=error

# The SAML tests run pysaml2's identity provider (tests/sso/saml_idp_server.py) and the portal's service provider,
# both signing and verifying with Debian's xmlsec1 (installed from apt when missing and we can).
saml-provider:
	@command -v xmlsec1 >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq xmlsec1 >/dev/null) || \
	  echo "xmlsec1 not installed: the SAML tests will fail"; }

# The accessibility engine the browser tests inject (axe-core, pinned by tests/package-lock.json).
axe:
	@[ -f tests/node_modules/axe-core/axe.min.js ] || { command -v npm >/dev/null 2>&1 && \
	  npm ci --prefix tests --no-audit --no-fund --silent || echo "npm not found: the accessibility checks will be skipped"; }

test: install browser sso-provider saml-provider axe
	$(PY) -m pytest $(PYTEST_ARGS)

test-fast: install sso-provider saml-provider
	$(PY) -m pytest -m "not e2e" $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

messages: install
	$(PY) manage.py makemessages -l zh_Hans --no-obsolete --no-location -i '.venv/*' -i 'var/*' -i 'tests/*' -i 'scripts/*' -i 'bench/*'
	$(PY) manage.py compilemessages -l zh_Hans -i '.venv'

# The API benchmark's load generator is wrk (a C program, so the generator does not eat the server's
# CPU as Python threads do); install it when we can, else the benchmark falls back to Python threads.
wrk:
	@command -v wrk >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null) || \
	  echo "wrk not installed: the API benchmark uses Python threads as its load generator"; }

# Benchmarks on PostgreSQL (DATABASE_URL) and Redis (REDIS_URL), as production. BENCH_ARGS="--quick" checks
# the harness in minutes on small data; figures need a quiet machine (each suite prints the load average).
bench: install wrk
	$(PY) -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var/staticfiles .pytest_cache
