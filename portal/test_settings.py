"""Settings for the test suite: the real ones, with fast password hashing and no HTTPS redirect."""

from portal.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
LANGUAGE_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
AUDIT_DEMO_KEYS = True  # tests use generated keys in temporary files (tests/audit/conftest.py)
# Each test's transaction is invisible to another thread's connection: last-use marks are written at once, in
# the caller's thread (tests/permissions/test_usage_writer.py covers the batched writer on its own).
USAGE_FLUSH_SECONDS = 0
# Each request reads the authorization version row (tests/permissions/test_versioning.py covers the
# production reuse window on its own; the fault tests run production settings in their own processes).
AUTHZ_VERSION_MAX_AGE = 0
WEBHOOKS_ALLOW_HTTP = True  # the tests' receivers are plain http on 127.0.0.1
WEBHOOKS_ALLOW_PRIVATE_TARGETS = True
SSO_ALLOW_HTTP_ISSUERS = True  # the tests' identity provider (node oidc-provider) is plain http on 127.0.0.1
SSO_ALLOW_PRIVATE_ISSUERS = True
WEBHOOKS_TIMEOUT_SECONDS = 2
# A test that calls run_due_jobs in the test process must not lower the whole run's priority (production: 10;
# tests/portal/test_job_priority.py sets it in processes of their own).
JOBS_NICENESS = config.env_int("JOBS_NICENESS", 0, minimum=0, maximum=19)  # noqa: F405
if DATABASES["default"]["ENGINE"].endswith("postgresql"):  # noqa: F405
    # The suite commits often (live-server and transaction tests flush every table after each test): on the
    # test database, a commit need not wait for its WAL to reach the disk. Visibility and locking are
    # unchanged; only durability across a crash of the server is given up, which a test database never needs.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c synchronous_commit=off"  # noqa: F405
