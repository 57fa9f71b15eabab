"""All settings, read from the environment. See README "Configuration" for each variable."""

import json
import os
import re
import sys
from fractions import Fraction
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from billing_site.logs import logging_settings

BASE_DIR = Path(__file__).resolve().parent.parent

# pytest imports itself before Django's settings; only then is a throwaway key acceptable.
TESTING = "pytest" in sys.modules


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return default
    return value in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG")

# Commands that only read the code (no requests served, nothing signed) run without a key, so
# `makemigrations --check` works in a bare checkout; serving and everything else refuse.
_OFFLINE_COMMANDS = {"makemigrations", "showmigrations", "sqlmigrate", "help"}
_OFFLINE_COMMAND = (
    len(sys.argv) > 1 and Path(sys.argv[0]).name == "manage.py" and sys.argv[1] in _OFFLINE_COMMANDS
)

SECRET_KEY = os.environ.get("SECRET_KEY", "").strip()
if not SECRET_KEY:
    if DEBUG or TESTING or _OFFLINE_COMMAND:
        SECRET_KEY = "insecure-development-key-never-use-in-production-0123456789abcdef"
    else:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set the SECRET_KEY environment variable to a long random "
            "string (python -c 'import secrets; print(secrets.token_urlsafe(50))'), "
            "or set DEBUG=1 for local development."
        )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG or TESTING else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "simple_history",
    "django_tasks_db",
    "billing_site.core",
    "accounts",
    "customers",
    "usage",
    "bills",
]

MIDDLEWARE = [
    # First, so every answer (a redirect, a refusal) carries X-Request-ID and every log line its id.
    "billing_site.core.request_id.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "billing_site.core.middleware.PrivateResponsesMiddleware",
    "accounts.middleware.LoginRequiredPagesMiddleware",
    # Who made each change that simple_history records (the admin, the pages).
    "simple_history.middleware.HistoryRequestMiddleware",
]

ROOT_URLCONF = "billing_site.urls"
WSGI_APPLICATION = "billing_site.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "billing_site.core.context_processors.currency",
                "bills.context_processors.approval_queue",
            ],
        },
    },
]

# An empty DATABASE_URL means "unset" (dj_database_url would return {} for it).
DATABASE_URL = os.environ.get("DATABASE_URL", "").strip()
if DATABASE_URL:
    # Kept a minute, checked before reuse: after a database restart, a fresh connection, no 500.
    DATABASES = {
        "default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)
    }
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # No JIT (60-200 ms a query on the analysis pages: docs/decisions.md); a URL's wins.
        db_options = DATABASES["default"].setdefault("OPTIONS", {})
        db_options["options"] = " ".join(filter(None, ["-c jit=off", db_options.get("options")]))
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("SQLITE_PATH", str(BASE_DIR / "db.sqlite3")),
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
# Sign-up, password changes and the admin all run these; login accepts every length the last
# one allows (accounts.passwords), so an accepted password always logs in.
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ("name", "email")},
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "accounts.passwords.MaximumLengthValidator"},
]
LOGIN_URL = "/welcome"
LOGIN_REDIRECT_URL = "/dashboard"
# The form-expired page, or to htmx a message offering to reload (billing_site/handlers.py).
CSRF_FAILURE_VIEW = "billing_site.handlers.csrf_failure"

# Self sign-up lets the visitor pick any role, Finance included: on for development and tests,
# off in production unless ALLOW_SIGNUP=1 says otherwise (staff create users in the admin).
ALLOW_SIGNUP = env_bool("ALLOW_SIGNUP", default=DEBUG or TESTING)

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", "").strip() or BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not (DEBUG or TESTING)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# Email (Django 6.1 mailers): console in development, SMTP from the environment in production.
# EMAIL_BACKEND picks any backend; EMAIL_FILE_PATH is the file backend's folder; EMAIL_OPTIONS
# (a JSON object) passes any other option a backend takes, and wins over the variables above.
_EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
_email_options: dict = {}
if _EMAIL_BACKEND.endswith("smtp.EmailBackend"):
    _email_options = {
        "host": os.environ.get("EMAIL_HOST", "localhost"),
        "port": int(os.environ.get("EMAIL_PORT", "25")),
        "username": os.environ.get("EMAIL_HOST_USER", ""),
        "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
        "use_tls": env_bool("EMAIL_USE_TLS"),
        "use_ssl": env_bool("EMAIL_USE_SSL"),
        "timeout": int(os.environ.get("EMAIL_TIMEOUT", "20")),
    }
elif _EMAIL_BACKEND.endswith("filebased.EmailBackend"):
    _email_options = {"file_path": os.environ.get("EMAIL_FILE_PATH", str(BASE_DIR / "sent-mail"))}
try:
    _extra_email_options = json.loads(os.environ.get("EMAIL_OPTIONS", "").strip() or "{}")
except ValueError as error:
    raise ImproperlyConfigured(f"EMAIL_OPTIONS is not a JSON object: {error}.") from None
if not isinstance(_extra_email_options, dict):
    raise ImproperlyConfigured('EMAIL_OPTIONS must be a JSON object, e.g. {"timeout": 10}.')
MAILERS = {"default": {"BACKEND": _EMAIL_BACKEND}}
if _email_options or _extra_email_options:
    MAILERS["default"]["OPTIONS"] = {**_email_options, **_extra_email_options}
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "billing@localhost")
# Where the desk is served, for the links in emails sent outside a request (the approvers'
# digest): scheme and host, no trailing slash.
SITE_URL = os.environ.get("SITE_URL", "").strip().rstrip("/") or "http://127.0.0.1:8000"

# Who the invoices come from, and the currency of every amount (an ISO 4217 code).
CURRENCY = os.environ.get("CURRENCY", "USD").strip().upper()
if not re.fullmatch(r"[A-Z]{3}", CURRENCY):
    raise ImproperlyConfigured(
        f"CURRENCY must be an ISO 4217 code of three letters, such as USD or EUR; got {CURRENCY!r}."
    )
SELLER_NAME = os.environ.get("SELLER_NAME", os.environ.get("BILLING_COMPANY_NAME", "API Co."))
# Lines separated by "\n" in the variable.
_SELLER_ADDRESS = os.environ.get("SELLER_ADDRESS", r"1 Example Way\nSpringfield")
SELLER_ADDRESS = _SELLER_ADDRESS.replace(r"\n", "\n")
SELLER_CONTACT = os.environ.get("SELLER_CONTACT", DEFAULT_FROM_EMAIL)


# Suspicious usage (usage/analysis.py): a month above HIGH times, or below LOW times, the median
# of the customer's recorded months among the WINDOW months before it, or a sudden 0. Customers
# with fewer than MIN_HISTORY recorded months in that window are not judged. HIGH and LOW are
# exact ratios: "3", "1/3" or a decimal such as "0.333333" (a Fraction, never a float).
def _env_ratio(name: str, default: str) -> Fraction:
    text = os.environ.get(name, "").strip() or default
    try:
        return Fraction(text)
    except (ValueError, ZeroDivisionError):
        raise ImproperlyConfigured(
            f'{name} must be a ratio such as "3", "1/3" or "0.333333"; got {text!r}.'
        ) from None


def _env_count(name: str, default: int, low: int, high: int) -> int:
    text = os.environ.get(name, "").strip() or str(default)
    if not re.fullmatch(r"[0-9]{1,3}", text) or not low <= int(text) <= high:
        raise ImproperlyConfigured(
            f"{name} must be a whole number from {low} to {high}; got {text!r}."
        )
    return int(text)


USAGE_ANOMALY_HIGH = _env_ratio("USAGE_ANOMALY_HIGH", "3")
USAGE_ANOMALY_LOW = _env_ratio("USAGE_ANOMALY_LOW", "1/3")
USAGE_ANOMALY_WINDOW = _env_count("USAGE_ANOMALY_WINDOW", 6, 1, 36)
USAGE_ANOMALY_MIN_HISTORY = _env_count("USAGE_ANOMALY_MIN_HISTORY", 3, 1, USAGE_ANOMALY_WINDOW)
if not (USAGE_ANOMALY_HIGH > 1 and 0 <= USAGE_ANOMALY_LOW < 1):
    raise ImproperlyConfigured(
        "USAGE_ANOMALY_HIGH must be above 1 and USAGE_ANOMALY_LOW from 0 to below 1; "
        f"got {USAGE_ANOMALY_HIGH} and {USAGE_ANOMALY_LOW}."
    )

# Security. Production (DEBUG off) is strict by default; each can be relaxed by its variable,
# e.g. SECURE_SSL_REDIRECT=0 behind a proxy that already redirects.
_strict = not DEBUG and not TESTING
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", _strict)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", _strict)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", _strict)
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000" if _strict else "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", _strict)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", _strict)
if env_bool("SECURE_PROXY_SSL_HEADER"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
SESSION_ENGINE = "accounts.sessions"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy on every answer: scripts and styles only from our own static files (no
# inline <script>, style="" or <style>, so an injected tag or attribute does nothing), nothing
# framed and no framing. The API docs page keeps to it too (templates/api/docs.html).
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.BearerTokenAuthentication",
        # DRF's session authentication enforces CSRF on unsafe methods.
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["billing_site.core.api.SafeJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["billing_site.core.api.StrictJSONParser"],
    "DEFAULT_PAGINATION_CLASS": "billing_site.core.pagination.PagePagination",
    # Filters are parsed by a serializer per endpoint and applied by the selectors.
    "DEFAULT_FILTER_BACKENDS": [],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "billing_site.core.api.exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_THROTTLE_RATES": {
        # Login limits (accounts.throttles, counted in the database): per address, per name
        # from one address, and a per-name ceiling that alerts and spares known addresses.
        "login_address": os.environ.get("LOGIN_THROTTLE_ADDRESS", "30/min"),
        "login_name_address": os.environ.get("LOGIN_THROTTLE_NAME_ADDRESS", "10/min"),
        "login_name": os.environ.get("LOGIN_THROTTLE_NAME", "100/hour"),
        "signup_address": os.environ.get("SIGNUP_THROTTLE_ADDRESS", "20/hour"),
    },
    # Client address for the throttles: REMOTE_ADDR unless NUM_PROXIES trusted proxies add
    # X-Forwarded-For (a client could otherwise pick its own address with that header).
    "NUM_PROXIES": int(os.environ.get("NUM_PROXIES", "0")),
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    # No OPTIONS self-description: the schema documents the API, and DRF's describer answered
    # 500 on views without a serializer_class (found by fuzzing). OPTIONS answers 405.
    "DEFAULT_METADATA_CLASS": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Billing desk API",
    "DESCRIPTION": (
        "Usage in, overage bills out: the JSON API of the billing desk (docs/api.md is the "
        "guide).\n\n"
        "**Auth**: `POST /api/session` with `{name, password}` returns a `token`; send it as "
        "`Authorization: Bearer <token>` (no CSRF needed). The session cookie works too, with "
        "the `X-CSRFToken` header on unsafe methods. `DELETE /api/session` ends every session "
        "and token of the user.\n\n"
        "**Errors**: 400 `{field: [messages]}` or `{detail}`; 401 not logged in; 403 role not "
        "allowed; 404 unknown id; 409 `{detail}` when the bill's status forbids the action; "
        "429 with `Retry-After` for too many login attempts.\n\n"
        "**Lists**: `{count, next, previous, results}` with `page` and `page_size` (1-500, "
        "default 50). Decimals are JSON strings; 64-bit counts are JSON numbers."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/",
    "ENUM_NAME_OVERRIDES": {
        "BillStatusEnum": "bills.models.Status",
        "BillActionEnum": "bills.models.Action",
        "RoleEnum": "accounts.models.Role",
    },
    "TAGS": [
        {"name": "users and sessions", "description": "Sign up, log in, log out."},
        {"name": "customers", "description": "Read-only."},
        {"name": "usage", "description": "Monthly API usage per customer."},
        {"name": "bills", "description": "Overage bills and their workflow."},
    ],
}

# Background work (issue 12): Django's tasks framework, queued in this database by
# django-tasks-db and run by `manage.py run_worker` (db_worker with a heartbeat). Nothing is ever
# run in the web process: a task enqueued inside a transaction exists only if it commits.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# How long a worker may go without a heartbeat before /health/ready and the outbox call it gone.
WORKER_HEARTBEAT_SECONDS = int(os.environ.get("WORKER_HEARTBEAT_SECONDS", "10"))
WORKER_GONE_SECONDS = int(os.environ.get("WORKER_GONE_SECONDS", "60"))
if WORKER_GONE_SECONDS <= WORKER_HEARTBEAT_SECONDS:
    raise ImproperlyConfigured(
        "WORKER_GONE_SECONDS must be longer than WORKER_HEARTBEAT_SECONDS, or live workers "
        "would be taken for gone."
    )
# Email deliveries: attempts before an invoice email is reported failed, and the first backoff
# (doubling each attempt: 30 s, 60 s, 120 s, 240 s).
DELIVERY_MAX_ATTEMPTS = int(os.environ.get("DELIVERY_MAX_ATTEMPTS", "5"))
DELIVERY_BACKOFF_SECONDS = float(os.environ.get("DELIVERY_BACKOFF_SECONDS", "30"))

# Shared cache (issue 12): one store for every worker and machine. Redis when REDIS_URL is set
# (redis://host:6379/0), else Django's database cache in CACHE_TABLE (core migration 0002
# creates it: `migrate` is all a deployment runs). Login and sign-up limits count in their own
# table (accounts.throttles). In-process tests keep a per-process cache, cleared for each test.
CACHE_TABLE = "billing_cache"
REDIS_URL = os.environ.get("REDIS_URL", "").strip()
if TESTING:
    _CACHE = ("django.core.cache.backends.locmem.LocMemCache", "billing-desk")
elif REDIS_URL:
    _CACHE = ("django.core.cache.backends.redis.RedisCache", REDIS_URL)
else:
    _CACHE = ("django.core.cache.backends.db.DatabaseCache", CACHE_TABLE)
CACHES = {"default": {"BACKEND": _CACHE[0], "LOCATION": _CACHE[1]}}

# Logs (issue 12): LOG_FORMAT "json" writes one JSON object per line (time, level, logger,
# message, request_id, and any extra fields), so several instances can be read together; "text"
# is for a person at a terminal, the default with DEBUG. request_id: billing_site/core/request_id.
LOG_FORMAT = os.environ.get("LOG_FORMAT", "").strip().lower() or ("text" if DEBUG else "json")
if LOG_FORMAT not in {"json", "text"}:
    raise ImproperlyConfigured(f'LOG_FORMAT must be "json" or "text"; got {LOG_FORMAT!r}.')
LOGGING = logging_settings(log_format=LOG_FORMAT, level=os.environ.get("LOG_LEVEL", "INFO"))
