"""maas settings: everything comes from the environment (12-factor), read here and nowhere else.

The embedded default (no variables set) is SQLite in WAL mode plus Celery's `filesystem://` broker,
both under `$MAAS_DATA_DIR`, so `make run` needs no services. `DATABASE_URL`, `REDIS_URL` and
`CELERY_BROKER_URL` switch to PostgreSQL and Redis.
"""

import os
import secrets
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from maas.ids import ID_PATTERN

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

# development (default: `make run`, tests) or production (refuses to start without its secrets).
MAAS_ENV = env.str("MAAS_ENV", default="development")
if MAAS_ENV not in ("development", "production"):
    raise ImproperlyConfigured("MAAS_ENV must be 'development' or 'production'")
PRODUCTION = MAAS_ENV == "production"

DATA_DIR = Path(env.str("MAAS_DATA_DIR", default=str(BASE_DIR / "var"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _development_secret_key() -> str:
    """A random key kept in the data dir, so sessions survive restarts without a configured key."""
    path = DATA_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


if PRODUCTION:
    SECRET_KEY = env.str("SECRET_KEY", default="")
    if len(SECRET_KEY) < 32:
        raise ImproperlyConfigured("production needs SECRET_KEY (at least 32 characters)")
else:
    SECRET_KEY = env.str("SECRET_KEY", default="") or _development_secret_key()

DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS",
    default=[] if PRODUCTION else ["localhost", "127.0.0.1", "[::1]", "testserver"],
)
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("production needs ALLOWED_HOSTS (comma-separated host names)")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "maas.apps.MaasConfig",
    "tenants",
    "billing",
    "catalog",
    "training",
    "inference",
    "webhooks",
    "console",
]

MIDDLEWARE = [
    "maas.middleware.RequestIdMiddleware",
    "maas.middleware.BodySizeLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "maas.urls"
WSGI_APPLICATION = "maas.wsgi.application"
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- database -------------------------------------------------------------------------------
DATABASES = {
    "default": env.db_url_config(
        env.str("DATABASE_URL", default="") or f"sqlite:///{DATA_DIR / 'maas.sqlite3'}"
    ),
}
_db = DATABASES["default"]
SQLITE_BUSY_TIMEOUT_MS = 10_000  # how long a SQLite write waits for another's lock (maas.db)
if _db["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web and worker processes read while one writes; synchronous=NORMAL keeps a
    # committed transaction across a killed process (only an OS crash can lose the last commits);
    # IMMEDIATE takes the write lock up front instead of failing a lock upgrade ("database is
    # locked") halfway through a transaction.
    _db["OPTIONS"] = {
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
            f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS};"
        ),
        "transaction_mode": "IMMEDIATE",
        "timeout": 10,
    }
    # Tests use a file, not memory, so that the live test server's threads each get their own
    # connection and concurrent requests behave as they do in production.
    _db["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}
    # Opening a SQLite connection runs the PRAGMAs above (~0.5 ms) and closing the last one
    # checkpoints the WAL (~1.4 ms): per request that was most of a prediction's cost. A process
    # keeps its connection (there is no server to lose it).
    _db["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=3600)
else:
    _db["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    # A health check is a `SELECT 1` round trip on every request; off by default, the hot paths
    # cannot afford it. A connection broken by a database restart fails one request, then is
    # replaced.
    _db["CONN_HEALTH_CHECKS"] = env.bool("DATABASE_CONN_HEALTH_CHECKS", default=False)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis, caches ----------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Celery ---------------------------------------------------------------------------------
BROKER_DIR = DATA_DIR / "broker"
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="") or REDIS_URL or "filesystem://"
if CELERY_BROKER_URL.startswith("filesystem://"):
    # The filesystem transport does not create its folders. One folder serves as both "in" and
    # "out" so that every producer and consumer on this machine shares the same queue files.
    for _sub in ("queue", "processed", "control"):
        (BROKER_DIR / _sub).mkdir(parents=True, exist_ok=True)
    # kombu's transport, with messages visible only once whole (maas/broker.py).
    CELERY_BROKER_TRANSPORT = "maas.broker:Transport"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        # Broadcast (pidbox) exchanges; the transport's default is ./control in the cwd.
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
        # The transport polls its folder; the default 1 s is most of a job's queue latency.
        "polling_interval": 0.1,
    }
# --- jobs (maas/jobs.py): training and batch inference alike ---------------------------------
# Runs of a job in all: one whose worker died is queued again until it has had this many.
MAAS_JOB_MAX_ATTEMPTS = env.int("MAAS_JOB_MAX_ATTEMPTS", default=2)
# A running job's worker writes its heartbeat this often...
MAAS_JOB_HEARTBEAT_SECONDS = env.float("MAAS_JOB_HEARTBEAT_SECONDS", default=5.0)
# ...and a job whose heartbeat is older than this has lost its worker.
MAAS_JOB_HEARTBEAT_TIMEOUT = env.float("MAAS_JOB_HEARTBEAT_TIMEOUT", default=60.0)
# How often beat looks for such jobs.
MAAS_JOB_REAP_SECONDS = env.float("MAAS_JOB_REAP_SECONDS", default=15.0)
if MAAS_JOB_HEARTBEAT_SECONDS * 2 > MAAS_JOB_HEARTBEAT_TIMEOUT:
    raise ImproperlyConfigured("MAAS_JOB_HEARTBEAT_TIMEOUT must be at least twice the heartbeat")

CELERY_TASK_IGNORE_RESULT = True  # job state lives in the database, not in a result backend
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# How often beat asks a worker to drain the usage inbox or stream and roll it up.
MAAS_USAGE_PROCESS_SECONDS = env.float("MAAS_USAGE_PROCESS_SECONDS", default=5.0)
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "billing-process-usage": {
        "task": "billing.tasks.process_usage",
        "schedule": MAAS_USAGE_PROCESS_SECONDS,
    },
    "billing-close-invoices": {"task": "billing.tasks.close_invoices", "schedule": 3600.0},
    "purge-idempotency-records": {
        "task": "maas.tasks.purge_expired_idempotency_records",
        "schedule": 3600.0,
    },
    # Jobs whose worker stopped beating: re-queued, failed or canceled (maas.jobs).
    "reap-jobs": {"task": "maas.tasks.reap_jobs", "schedule": float(MAAS_JOB_REAP_SECONDS)},
    # Webhook retries that are due, and sends whose worker died (webhooks.delivery).
    "webhooks-dispatch-due": {"task": "webhooks.tasks.dispatch_due_webhooks", "schedule": 5.0},
    "purge-rate-limit-counters": {
        "task": "maas.tasks.purge_rate_limit_counters",
        "schedule": 300.0,
    },
}

# --- API plumbing -----------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["maas.drf.PrincipalAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": [],
    "DEFAULT_THROTTLE_CLASSES": [],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "EXCEPTION_HANDLER": "maas.drf.exception_handler",
    "UNAUTHENTICATED_USER": None,
    # The schema class also registers the API key scheme with drf-spectacular (maas/schema.py).
    "DEFAULT_SCHEMA_CLASS": "maas.schema.TenantAutoSchema",
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "maas.serializers.FixedFormatNegotiation",
    "DEFAULT_PARSER_CLASSES": ["maas.drf.JsonBodyParser"],
    "DATETIME_FORMAT": "iso-8601",
    "COERCE_DECIMAL_TO_STRING": True,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "maas API",
    "DESCRIPTION": "Multi-tenant, metered model-as-a-service. Authenticate with "
    "`Authorization: Bearer mk_...`.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Request and response bodies as separate components: a field the server fills (id,
    # created_at) is not one a client sends.
    "COMPONENT_SPLIT_REQUEST": True,
    # maas.ids' `oid` path converter: an object id.
    "PATH_CONVERTER_OVERRIDES": {"oid": {"type": "string", "pattern": f"^{ID_PATTERN}$"}},
    "ENUM_NAME_OVERRIDES": {
        "JobStatus": "maas.jobs.JobStatus",
        "InvoiceStatus": "billing.models.Invoice.Status",
        "WebhookEndpointStatus": "webhooks.models.WebhookEndpoint.Status",
        "WebhookDeliveryStatus": "webhooks.models.WebhookDelivery.Status",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "maas.schema.components_hook",
        "maas.schema.links_hook",
    ],
}

# Largest JSON (non-upload) request body; bigger is 413 before the body is read.
MAAS_MAX_JSON_BODY_BYTES = env.int("MAAS_MAX_JSON_BODY_BYTES", default=10 * 1000 * 1000)
# Arrays and objects nested deeper than this in a JSON body are 400 (maas/jsonbody.py).
MAAS_MAX_JSON_DEPTH = env.int("MAAS_MAX_JSON_DEPTH", default=32)
# Largest multipart body of any plan; the tenant's own max_upload_bytes is enforced by the upload.
MAAS_MAX_UPLOAD_BODY_BYTES = env.int(
    "MAAS_MAX_UPLOAD_BODY_BYTES", default=1_000_000_000 + 1_000_000
)
DATA_UPLOAD_MAX_MEMORY_SIZE = MAAS_MAX_JSON_BODY_BYTES
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_500_000

MAAS_IDEMPOTENCY_TTL_SECONDS = env.int("MAAS_IDEMPOTENCY_TTL_SECONDS", default=24 * 3600)
# A request that holds its key longer than this is taken for dead (its process was killed).
MAAS_IDEMPOTENCY_LOCK_SECONDS = env.int("MAAS_IDEMPOTENCY_LOCK_SECONDS", default=120)
MAAS_ACCESS_LOG = env.bool("MAAS_ACCESS_LOG", default=True)

# --- the web server (maas.web: granian, maas.rsgi) --------------------------------------------
MAAS_WEB_HOST = env.str("MAAS_WEB_HOST", default="0.0.0.0")  # noqa: S104 (a server binds all)
MAAS_WEB_PORT = env.int("PORT", default=8000)
MAAS_WEB_UDS = env.str("MAAS_WEB_UDS", default="")  # a unix socket path instead of host:port
MAAS_WEB_WORKERS = env.int("WEB_CONCURRENCY", default=2)
# Requests a web process holds at once: being read, run (one at a time), parked or answered.
MAAS_WEB_MAX_IN_FLIGHT = env.int("MAAS_WEB_MAX_IN_FLIGHT", default=512)
# On stop or reload, in-flight requests get this long to finish (a long poll waits at most 60 s).
MAAS_WEB_GRACEFUL_SECONDS = env.int("MAAS_WEB_GRACEFUL_SECONDS", default=65)

# `make run` (maas.launcher) starts its processes at this nice value (0-19; 0 leaves them as they
# are): they give the CPU to the rest of the host first (the kernel's network work, clients) and
# share what is left as before. Embedded only by default: with Redis, where every request waits
# for its answer, a low weight delays each wake-up and cost ~15 % of throughput (docs/serving.md).
MAAS_LAUNCHER_NICE = env.int("MAAS_LAUNCHER_NICE", default=0 if REDIS_URL else 19)
# ... and every process but `web` (the worker and beat) at this one, or MAAS_LAUNCHER_NICE if
# that is higher: the usage drain, the rollups and training give the CPU to the web processes
# first. Their periodic work every 5 s, at the web processes' weight, took a core for tens of
# milliseconds and showed in the predictions' p99 (docs/serving.md, "Stalls"). Training jobs are
# billed CPU seconds, which a lower priority does not change.
MAAS_LAUNCHER_WORKER_NICE = env.int("MAAS_LAUNCHER_WORKER_NICE", default=19)

# --- training ---------------------------------------------------------------------------------
# Set when workers consume the training_gpu queue; Keras jobs of at least MAAS_GPU_MIN_WORK
# (rows x widest layer x epochs) then go there (small networks train faster on CPUs).
MAAS_GPU_WORKERS = env.bool("MAAS_GPU_WORKERS", default=False)
MAAS_GPU_MIN_WORK = env.int("MAAS_GPU_MIN_WORK", default=1_000_000 * 1024 * 3)

# --- serving ----------------------------------------------------------------------------------
MAAS_PREDICT_MAX_ROWS = env.int("MAAS_PREDICT_MAX_ROWS", default=1000)
# Exact contributions cost more per row than a prediction (docs/explanations.md).
MAAS_EXPLAIN_MAX_ROWS = env.int("MAAS_EXPLAIN_MAX_ROWS", default=500)
# Images (catalog/images.py): per image, in uploads and predict rows.
# Webhooks to private, loopback or link-local addresses: refused unless allowed (development).
MAAS_WEBHOOKS_ALLOW_PRIVATE = env.bool("MAAS_WEBHOOKS_ALLOW_PRIVATE", default=DEBUG)
# How long a worker holds a delivery it is sending; past it, beat sends it again (a dead worker).
MAAS_WEBHOOK_LEASE_SECONDS = env.int("MAAS_WEBHOOK_LEASE_SECONDS", default=60)
MAAS_IMAGE_MAX_PIXELS = env.int("MAAS_IMAGE_MAX_PIXELS", default=4096 * 4096)
MAAS_IMAGE_MAX_BYTES = env.int("MAAS_IMAGE_MAX_BYTES", default=10 * 1024 * 1024)
MAAS_MODEL_CACHE_SIZE = env.int("MAAS_MODEL_CACHE_SIZE", default=32)
MAAS_MODEL_CACHE_BYTES = env.int("MAAS_MODEL_CACHE_BYTES", default=1_000_000_000)

# --- billing ----------------------------------------------------------------------------------
# Where usage recorded outside a transaction goes (billing/usage.py): "stream", a Redis stream
# drained by the billing worker (needs REDIS_URL); "inbox", files of each process's own in a
# folder, drained the same way (the embedded default); "database", straight into the usage table.
MAAS_USAGE_SINK = env.str("MAAS_USAGE_SINK", default="stream" if REDIS_URL else "inbox")
if MAAS_USAGE_SINK not in ("stream", "inbox", "database") or (
    MAAS_USAGE_SINK == "stream" and not REDIS_URL
):
    raise ImproperlyConfigured(
        "MAAS_USAGE_SINK is 'inbox', 'database', or 'stream' with REDIS_URL set"
    )
MAAS_USAGE_INBOX = Path(env.str("MAAS_USAGE_INBOX", default=str(DATA_DIR / "usage-inbox")))
MAAS_USAGE_STREAM = env.str("MAAS_USAGE_STREAM", default="maas:usage:events")
# The Redis key of the hot-path cache generation (maas/generation.py).
MAAS_GENERATION_KEY = env.str("MAAS_GENERATION_KEY", default="maas:hot-generation")
MAAS_USAGE_DEDUPE_SECONDS = env.int("MAAS_USAGE_DEDUPE_SECONDS", default=7 * 24 * 3600)
MAAS_SPEND_CACHE_SECONDS = env.float("MAAS_SPEND_CACHE_SECONDS", default=5.0)
MAAS_INVOICE_GRACE_SECONDS = env.int("MAAS_INVOICE_GRACE_SECONDS", default=3600)
STRIPE_API_KEY = env.str("STRIPE_API_KEY", default="")
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="")
STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET", default="")
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="billing@maas.local")

# --- auth, i18n, static -----------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# The admin's messages live in the session: the default cookie storage builds a signer on every
# request, API requests included (~100 µs here).
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

# --- the tenant console (docs/console.md) ---------------------------------------------------------
LOGIN_URL = "console:login"
LOGIN_REDIRECT_URL = "console:overview"
# Sign-in attempts per minute, per email and per client address.
MAAS_CONSOLE_SIGN_IN_PER_MINUTE = env.int("MAAS_CONSOLE_SIGN_IN_PER_MINUTE", default=10)
SESSION_COOKIE_AGE = env.int("MAAS_CONSOLE_SESSION_SECONDS", default=12 * 3600)

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
STATIC_ROOT.mkdir(exist_ok=True)
MEDIA_ROOT = Path(env.str("MAAS_MEDIA_ROOT", default=str(DATA_DIR / "files")))

# Datasets, artifacts, batch results and error files go through `default_storage`: this
# host's MEDIA_ROOT by default, or an S3 bucket (any S3-compatible server) when
# MAAS_STORAGE_URL=s3://bucket/prefix, so web and worker hosts share no disk (docs/deploy.md).
# Credentials come from boto3's usual chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, a
# profile or an instance role).
MAAS_STORAGE_URL = env.str("MAAS_STORAGE_URL", default="")
if MAAS_STORAGE_URL:
    from maas.storage_url import s3_storage_options

    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": s3_storage_options(
            MAAS_STORAGE_URL,
            endpoint_url=env.str("AWS_S3_ENDPOINT_URL", default=""),
            region_name=env.str("AWS_S3_REGION_NAME", default=""),
            # Server-side encryption asked of the store on every object ("" to not ask).
            encryption=env.str("MAAS_STORAGE_SSE", default="AES256"),
            kms_key_id=env.str("MAAS_STORAGE_SSE_KMS_KEY_ID", default=""),
        ),
    }
# Artifacts read from a remote store are kept on local disk per host (checked by sha256 at
# every load), the least recently used dropped past this many bytes.
MAAS_ARTIFACT_CACHE_DIR = Path(
    env.str("MAAS_ARTIFACT_CACHE_DIR", default=str(DATA_DIR / "artifact-cache"))
)
MAAS_ARTIFACT_CACHE_BYTES = env.int("MAAS_ARTIFACT_CACHE_BYTES", default=2 * 1024**3)

if PRODUCTION:
    # TLS ends at the proxy in front, which says so in X-Forwarded-Proto; plain HTTP is
    # redirected, except the health probes a load balancer sends to the process directly.
    SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=365 * 24 * 3600)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)

# --- metrics (GET /metrics, maas/metrics.py) --------------------------------------------------
# When set, a scrape needs `Authorization: Bearer <token>`; unset, /metrics is open (keep it
# behind the proxy).
MAAS_METRICS_TOKEN = env.str("MAAS_METRICS_TOKEN", default="")
# prometheus-client's multiprocess mode: each process of a host writes its counters here and
# a scrape sums them; empty it when the host's processes start (make run does).
MAAS_METRICS_DIR = Path(env.str("MAAS_METRICS_DIR", default=str(DATA_DIR / "metrics")))
MAAS_METRICS_DIR.mkdir(parents=True, exist_ok=True)
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(MAAS_METRICS_DIR))

# --- logging: one JSON object per line, carrying the request id -------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "maas.logging.RequestIdFilter"}},
    "formatters": {"json": {"()": "maas.logging.JsonFormatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": "json",
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.request": {"level": "ERROR"},  # our own handler logs 5xx once, with the request id
        "django.server": {"level": "WARNING"},
    },
}
