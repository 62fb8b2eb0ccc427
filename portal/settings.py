"""Portcullis settings, read from the environment (see README: Configuration).

Defaults give the embedded set-up (SQLite, local memory cache, generated key); production sets
DATABASE_URL, REDIS_URL, SECRET_KEY and ALLOWED_HOSTS. Values are validated in portal.config.
"""

from datetime import timedelta
from pathlib import Path

from django.utils.translation import gettext_lazy as _

from portal import config

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(config.env_str("PORTCULLIS_VAR_DIR") or BASE_DIR / "var")

DEBUG = config.env_bool("DEBUG", default=False)
SECRET_KEY = config.secret_key("SECRET_KEY", VAR_DIR / "secret_key")
ALLOWED_HOSTS = config.env_hosts("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = config.env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "portal.apps.PlatformAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "django_otp",
    "axes",
    "guardian",
    "accounts",
    "permissions",
    "console",
    "reviews",
    "audit",
    "vault",
    "workspace",
    "accessrequests",
    "api",
    "webhooks",
    "appeals",
    "dormancy",
    "intelligence",
    "training",
    "sso",
    "integration",
    "guides",
    "portal.apps.PortalConfig",
]

MIDDLEWARE = [
    "portal.middleware.RequestIdMiddleware",
    # /api/ and /scim/: URL, query and header checks, answered as problem+json / SCIM errors (api/input.py)
    "portal.middleware.EdgeInputMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # bearer-key POSTs to /api/v1/check(/batch) only; everything else goes on (api/fastpath.py)
    "api.fastpath.CheckFastPathMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.TenantMiddleware",
    "permissions.middleware.AuthzMiddleware",
    "audit.middleware.AuditOriginMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "accounts.policy.SessionGuardMiddleware",
    "accounts.policy.MfaPolicyMiddleware",
    "accounts.passkeys.policy.PasskeyPolicyMiddleware",
    # a step-up while an open access-intelligence alert requires one (intelligence/middleware.py)
    "intelligence.middleware.AlertStepUpMiddleware",
    "sso.policy.RequireSsoMiddleware",
    "accounts.networks.ConsoleNetworkMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "portal.middleware.SecurityHeadersMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"
ASGI_APPLICATION = "portal.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.layout",
            ],
        },
    },
]

DATABASES = {"default": config.database_config("DATABASE_URL", VAR_DIR / "portcullis.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = config.redis_url("REDIS_URL")
if REDIS_URL:
    # portal.cache.RedisCache: Django's, reusing one redis client per pool, a Redis fault being a miss
    CACHES = {"default": {"BACKEND": "portal.cache.RedisCache", "LOCATION": REDIS_URL}}
    # Sessions are written to the database and read through Redis: no one is logged out when Redis is
    # down, flushed or restarted (FC-1; docs/permissions.md "What happens when the cache fails").
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "portcullis"}}
    SESSION_ENGINE = "django.contrib.sessions.backends.db"

AUTH_USER_MODEL = "accounts.User"
# axes first: it refuses a locked-out (account, address) before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "accounts.backends.EmailBackend",
    "permissions.backends.EngineBackend",
]
# django-guardian stores per-object grants (permissions.models.grants); its own backend is not used:
# it knows neither tenants nor expiry, so the engine's backend answers instead (guardian.W001 silenced).
ANONYMOUS_USER_NAME = None
# models.W040: the grant indexes INCLUDE columns on PostgreSQL; SQLite (the embedded default) ignores them.
# auth.W004: e-mails (the USERNAME_FIELD) are unique per tenant, not per platform; accounts.backends.EmailBackend
# handles an address with accounts in several tenants (the password, or the organisation, picks one).
SILENCED_SYSTEM_CHECKS = ["guardian.W001", "models.W040", "auth.W004"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "accounts.passwords.TenantMinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

# Break-glass (docs/console.md): a sole administrator's escalation applies by itself only after this many hours,
# during which it is shown on the console, e-mailed to the administrators and can be cancelled.
BREAK_GLASS_COOLING_OFF_HOURS = config.env_int("BREAK_GLASS_COOLING_OFF_HOURS", 24, minimum=1, maximum=24 * 14)

# Passkeys (accounts/passkeys, docs/passkeys.md): the WebAuthn relying party id (a domain) and the origins that
# may use it; empty: both follow PORTCULLIS_BASE_URL (127.0.0.1 becomes localhost). Checked at start-up.
PASSKEY_RP_ID = config.env_str("PASSKEY_RP_ID")
PASSKEY_ORIGINS = config.env_list("PASSKEY_ORIGINS", [])

# Password reset links live one hour; invitation links 72 hours (accounts.tokens).
PASSWORD_RESET_TIMEOUT = 60 * 60

# Brute force (AUTH-2): 5 failed passwords per (account, client address) lock that pair for 15 minutes.
# The address comes from audit.context.client_address with TRUSTED_PROXY_COUNT, so a forged
# X-Forwarded-For changes nothing. OTP failures are throttled separately, per device (django-otp).
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "accounts.lockout.client_ip"
AXES_USERNAME_CALLABLE = "accounts.lockout.username"
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
OTP_TOTP_THROTTLE_FACTOR = 1

# Sessions: the absolute lifetime; the idle timeout is a tenant setting enforced by middleware.
SESSION_COOKIE_AGE = 12 * 60 * 60
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# No script reads the CSRF cookie: forms send the csrfmiddlewaretoken field (static/reviews/reviews.js posts
# the form's own FormData) and the API docs get the token rendered into their start-up script.
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_NAME = "portcullis_session"
# The language cookie like the others (SES-2): Django's defaults would send it without Secure, HttpOnly, SameSite.
LANGUAGE_COOKIE_NAME = "portcullis_language"
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"

# HTTPS in production: on whenever DEBUG is off, unless explicitly disabled for plain-http demos.
SECURE = config.env_bool("PORTCULLIS_HTTPS", default=not DEBUG)
SECURE_SSL_REDIRECT = SECURE
SESSION_COOKIE_SECURE = SECURE
CSRF_COOKIE_SECURE = SECURE
LANGUAGE_COOKIE_SECURE = SECURE
SECURE_HSTS_SECONDS = 31_536_000 if SECURE else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE
SECURE_HSTS_PRELOAD = SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if config.env_bool("BEHIND_TLS_PROXY") else None
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
TRUSTED_PROXY_COUNT = config.env_int("TRUSTED_PROXY_COUNT", 0, minimum=0, maximum=5)

# Audit checkpoints are signed with Ed25519 (audit.keys; docs/audit-operations.md).
AUDIT_SIGNING_KEY = config.env_str("AUDIT_SIGNING_KEY")
AUDIT_RETIRED_PUBLIC_KEYS = config.env_list("AUDIT_RETIRED_PUBLIC_KEYS", [])
AUDIT_KEY_FILE = VAR_DIR / "audit_signing_key.json"
# Production: the key from AUDIT_SIGNING_KEY or a file outside the data directory; the demo may generate one.
AUDIT_SIGNING_KEY_FILE = config.env_str("AUDIT_SIGNING_KEY_FILE")
AUDIT_DEMO_KEYS = DEBUG or config.env_bool("PORTCULLIS_DEMO")
# Trusted inputs of `audit_verify` (never read from the database): witness verifier keys, the quorum, and
# the witnesses' URLs whose latest cosigned checkpoints are roots of trust (docs/audit-operations.md).
AUDIT_TRUSTED_WITNESSES = config.env_list("AUDIT_TRUSTED_WITNESSES", [])
AUDIT_TRUSTED_WITNESS_URLS = config.env_list("AUDIT_TRUSTED_WITNESS_URLS", [])
# RFC 3161 time-stamping authorities that timestamp each checkpoint, and the roots that verify them (PEM).
AUDIT_TSA_URLS = config.env_list("AUDIT_TSA_URLS", [])
AUDIT_TSA_ROOTS_FILE = config.env_str("AUDIT_TSA_ROOTS_FILE")
# Demo only (`make run`): the local witness's key and URL, written by `manage.py audit_demo_witness`.
AUDIT_DEMO_WITNESS_FILE = VAR_DIR / "witness" / "trusted.txt"
AUDIT_WITNESS_QUORUM = config.env_int("AUDIT_WITNESS_QUORUM", 1, minimum=0, maximum=32)
AUDIT_WITNESS_TIMEOUT_SECONDS = config.env_int("AUDIT_WITNESS_TIMEOUT_SECONDS", 10, minimum=1, maximum=120)
# A checkpoint's recorded time must be within this many seconds before its witnesses' cosignature times.
AUDIT_WITNESS_MAX_DELAY_SECONDS = config.env_int("AUDIT_WITNESS_MAX_DELAY_SECONDS", 900, minimum=60, maximum=86400)
AUDIT_CHECKPOINT_INTERVAL_MINUTES = config.env_int("AUDIT_CHECKPOINT_INTERVAL_MINUTES", 60, minimum=1, maximum=1440)

# Webhooks (webhooks/, docs/webhooks.md): https targets on public addresses only, unless allowed here.
WEBHOOKS_ALLOW_HTTP = config.env_bool("WEBHOOKS_ALLOW_HTTP", default=not SECURE)
WEBHOOKS_ALLOW_PRIVATE_TARGETS = config.env_bool("WEBHOOKS_ALLOW_PRIVATE_TARGETS", default=False)
# Single sign-on (sso/endpoints.py): identity providers over https at public addresses, unless these say otherwise.
SSO_ALLOW_HTTP_ISSUERS = config.env_bool("SSO_ALLOW_HTTP_ISSUERS", default=not SECURE)
SSO_ALLOW_PRIVATE_ISSUERS = config.env_bool("SSO_ALLOW_PRIVATE_ISSUERS", default=False)
WEBHOOKS_TIMEOUT_SECONDS = config.env_int("WEBHOOKS_TIMEOUT_SECONDS", 5, minimum=1, maximum=30)
# A delivery is tried this many times (exponential back-off with jitter between tries), then the
# subscription is disabled and the tenant's administrators are told.
WEBHOOKS_MAX_ATTEMPTS = config.env_int("WEBHOOKS_MAX_ATTEMPTS", 12, minimum=1, maximum=50)
WEBHOOKS_BACKOFF_BASE_SECONDS = config.env_int("WEBHOOKS_BACKOFF_BASE_SECONDS", 30, minimum=1, maximum=3600)
WEBHOOKS_BACKOFF_CAP_SECONDS = config.env_int("WEBHOOKS_BACKOFF_CAP_SECONDS", 6 * 3600, minimum=1, maximum=86400)
# After a rotation the previous secret still signs (a second signature) for this many hours.
WEBHOOKS_SECRET_GRACE_HOURS = config.env_int("WEBHOOKS_SECRET_GRACE_HOURS", 24, minimum=0, maximum=24 * 30)
WEBHOOKS_CONCURRENCY = config.env_int("WEBHOOKS_CONCURRENCY", 8, minimum=1, maximum=64)
WEBHOOKS_BATCH = config.env_int("WEBHOOKS_BATCH", 500, minimum=1, maximum=10000)
WEBHOOKS_RUN_SECONDS = config.env_int("WEBHOOKS_RUN_SECONDS", 45, minimum=1, maximum=600)
# The job processes (the Celery worker's, the embedded `run_due_jobs --loop`) run at this CPU niceness, so that a
# webhook fan-out or a campaign's apply never takes the cores from the web workers' answers (0: as the web's).
JOBS_NICENESS = config.env_int("JOBS_NICENESS", 10, minimum=0, maximum=19)

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"
# One date format in every language, with the time zone (portal/formats, issue 19).
FORMAT_MODULE_PATH = ["portal.formats"]

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
if DEBUG:
    STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
WHITENOISE_USE_FINDERS = DEBUG

EMAIL_BACKEND = config.env_str("EMAIL_BACKEND") or "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = config.env_str("DEFAULT_FROM_EMAIL") or "portcullis@localhost"
# The address links in e-mails (invitations, password resets) point to.
PORTCULLIS_BASE_URL = config.env_str("PORTCULLIS_BASE_URL") or "http://127.0.0.1:8000"

# The API (api/, docs/api.md): strict defaults, so a new endpoint is closed before anyone edits it.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.ApiKeyAuthentication",
        "api.authentication.PortalSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["api.permissions.DenyByDefault"],
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.KeyRateThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["api.input.StrictJSONParser"],  # the edge checks of FC-2
    "DEFAULT_SCHEMA_CLASS": "api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "api.errors.problem_handler",
}
API_SESSION_RATE_PER_MINUTE = config.env_int("API_SESSION_RATE_PER_MINUTE", 600, minimum=1, maximum=1_000_000)
API_ANONYMOUS_RATE_PER_MINUTE = config.env_int("API_ANONYMOUS_RATE_PER_MINUTE", 60, minimum=1, maximum=1_000_000)
SPECTACULAR_SETTINGS = {
    "TITLE": "Portcullis API",
    "DESCRIPTION": "Tenant REST API, permission checks and SCIM 2.0 provisioning. See docs/api.md.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # every operation's 4xx answers as problem+json (FC-2), after spectacular's own enum hook
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.schema.add_error_responses",
    ],
    "ENUM_NAME_OVERRIDES": {
        "ActionEnum": "permissions.vocabulary.Action",
        "ReviewDecisionEnum": "reviews.models.Decision",
        "ReviewVerdictEnum": "api.views.reviews.VERDICTS",
    },
}

# Content Security Policy (django-csp): our own static files only; no inline script or style.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# How long a process's requests may reuse a tenant's authorization version read by another of its requests
# (permissions.versioning): a change committed by another process is obeyed within this many seconds.
AUTHZ_VERSION_MAX_AGE = config.env_int("AUTHZ_VERSION_MAX_AGE_MS", 250, minimum=0, maximum=1000) / 1000

# Last-use marks (permissions.usage) are written in batches by a thread of each process, off the answer's path:
# every USAGE_FLUSH_MS milliseconds, or as soon as USAGE_FLUSH_ROWS are waiting; 0 writes each one at once.
USAGE_FLUSH_SECONDS = config.env_int("USAGE_FLUSH_MS", 1000, minimum=0, maximum=60_000) / 1000
USAGE_FLUSH_ROWS = 500
# Use counts per (user, module, action, hour) gather this long between writes (intelligence/counting.py).
USAGE_COUNTS_GATHER_SECONDS = 10.0

# Background work: Celery workers and beat on Redis in production (CELERY_ENABLED); inline otherwise.
CELERY_ENABLED = config.env_bool("CELERY_ENABLED", default=False)
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_TASK_ALWAYS_EAGER = not CELERY_ENABLED
CELERY_TIMEZONE = "UTC"

LOG_FORMAT = config.env_choice("LOG_FORMAT", ["json", "text"], default="text" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "portal.logging.JsonFormatter"},
        "text": {"()": "portal.logging.TextFormatter"},  # control characters escaped (LOG-7)
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": config.env_str("LOG_LEVEL") or "INFO"},
    # pysaml2's schema library tells at INFO that it loaded its schemas, in every process: only its warnings.
    "loggers": {"xmlschema": {"level": "WARNING"}},
}
