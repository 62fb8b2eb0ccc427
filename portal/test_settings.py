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
WEBHOOKS_ALLOW_HTTP = True  # the tests' receivers are plain http on 127.0.0.1
WEBHOOKS_ALLOW_PRIVATE_TARGETS = True
WEBHOOKS_TIMEOUT_SECONDS = 2
