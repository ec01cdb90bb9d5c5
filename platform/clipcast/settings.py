"""Clipcast settings: one file, every value from the environment with a loud error when it is wrong."""

from __future__ import annotations

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from kombu import Exchange, Queue

from clipcast.env import (
    cache_from_url,
    database_from_url,
    env_bool,
    env_choice,
    env_float,
    env_int,
    env_list,
    env_models,
    env_networks,
    env_secret,
    env_str,
)
from clipcast.storage import LOCAL_BACKEND, s3_storage
from generation.engine import performance

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(env_str("CLIPCAST_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_secret("SECRET_KEY", "dev-only-insecure-key-do-not-deploy" if DEBUG else "")
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY is required when DEBUG is off (or set DEBUG=1 for local development).")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "django_htmx",
    "core",
    "clipcast",
    "accounts",
    "campaigns",
    "dashboard",
    "generation",
    "publishing",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.audit.AuditActorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "clipcast.security.SecurityHeadersMiddleware",
    "clipcast.security.AdminNulQueryMiddleware",
]

ROOT_URLCONF = "clipcast.urls"
WSGI_APPLICATION = "clipcast.wsgi.application"
ASGI_APPLICATION = "clipcast.asgi.application"

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
            ],
        },
    },
]

DATABASES = {"default": database_from_url(env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'clipcast.sqlite3'}"))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Shared by every web process (login and API throttles must agree): Redis in production. The default, a folder
# under var/, is shared by the processes of `make run` on one machine without another service.
CACHES = {"default": cache_from_url(env_str("CACHE_URL", f"file://{(VAR_DIR / 'cache').resolve()}"))}
# Peers whose X-Forwarded-For is believed (addresses or CIDRs); from anyone else it is ignored.
TRUSTED_PROXIES = env_networks("TRUSTED_PROXIES")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Every password check (dashboard, admin, later views) goes through the login throttle.
AUTHENTICATION_BACKENDS = ["clipcast.login_throttle.ThrottledModelBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard:home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
# Clip media are for the members of their workspace only: nothing serves MEDIA_ROOT publicly. The member-only view
# (generation.views.clip_media) streams local files itself, or hands them to a proxy (MEDIA_ACCEL), or redirects
# to an expiring presigned URL of the bucket.
MEDIA_STORAGE = env_str("MEDIA_STORAGE", "local").strip().lower()
MEDIA_URL_EXPIRY = env_int("MEDIA_URL_EXPIRY", 3600, minimum=1, maximum=7 * 24 * 3600)
if MEDIA_STORAGE == "local":
    MEDIA_DEFAULT_STORAGE = {"BACKEND": LOCAL_BACKEND}
elif MEDIA_STORAGE == "s3":
    MEDIA_BUCKET = env_str("MEDIA_BUCKET", "").strip()
    if not MEDIA_BUCKET:
        raise ImproperlyConfigured("MEDIA_STORAGE=s3 needs MEDIA_BUCKET: the name of an existing private bucket.")
    MEDIA_DEFAULT_STORAGE = s3_storage(
        bucket=MEDIA_BUCKET,
        endpoint_url=env_str("MEDIA_S3_ENDPOINT_URL", "").strip(),
        region=env_str("MEDIA_S3_REGION", "us-east-1").strip(),
        access_key=env_secret("MEDIA_S3_ACCESS_KEY_ID", ""),
        secret_key=env_secret("MEDIA_S3_SECRET_ACCESS_KEY", ""),
        url_expiry=MEDIA_URL_EXPIRY,
    )
else:
    raise ImproperlyConfigured(f"MEDIA_STORAGE={MEDIA_STORAGE!r} is not supported: use local or s3.")
# A proxy in front of Django serves local media after the view's membership check: "x-accel-redirect" (nginx,
# an `internal` location at MEDIA_ACCEL_PREFIX aliased to MEDIA_ROOT) or "x-sendfile" (Apache, lighttpd).
MEDIA_ACCEL = env_str("MEDIA_ACCEL", "off").strip().lower()
MEDIA_ACCEL_PREFIX = "/" + env_str("MEDIA_ACCEL_PREFIX", "/protected-media/").strip("/") + "/"
if MEDIA_ACCEL not in {"off", "x-accel-redirect", "x-sendfile"}:
    raise ImproperlyConfigured(f"MEDIA_ACCEL={MEDIA_ACCEL!r} is not supported: use off, x-accel-redirect or "
                               "x-sendfile.")
if MEDIA_ACCEL != "off" and MEDIA_STORAGE != "local":
    raise ImproperlyConfigured("MEDIA_ACCEL applies to local media only: with MEDIA_STORAGE=s3 members get "
                               "presigned URLs of the bucket. Unset MEDIA_ACCEL.")
STORAGES = {
    "default": MEDIA_DEFAULT_STORAGE,
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedStaticFilesStorage"
    },
}
# Serve app static files even before collectstatic has run (tests, first start); collected files win.
WHITENOISE_USE_FINDERS = True

EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend",
)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Clipcast <clipcast@localhost>")

# Secrets at rest (X tokens): comma-separated Fernet keys, newest first; older keys still decrypt (rotation).
CLIPCAST_ENCRYPTION_KEYS = env_list("CLIPCAST_ENCRYPTION_KEYS", [])
if not CLIPCAST_ENCRYPTION_KEYS and not DEBUG:
    raise ImproperlyConfigured(
        "CLIPCAST_ENCRYPTION_KEYS is required when DEBUG is off: generate one with "
        "`python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`."
    )

# X: every request goes to these base URLs, so the sandbox (or any X-compatible server) can stand in.
X_API_BASE_URL = env_str("X_API_BASE_URL", "https://api.x.com")
X_UPLOAD_BASE_URL = env_str("X_UPLOAD_BASE_URL", X_API_BASE_URL)
X_REQUEST_TIMEOUT = env_float("X_REQUEST_TIMEOUT", 30.0)
X_CONNECT_TIMEOUT = env_float("X_CONNECT_TIMEOUT", 10.0)
X_WEB_BASE_URL = env_str("X_WEB_BASE_URL", "https://x.com")  # where post links point (the sandbox under make run)
# The X app: its OAuth 1.0a consumer key pair, and its OAuth 2.0 client for the PKCE connect flow.
X_CONSUMER_KEY = env_str("X_CONSUMER_KEY", "")
X_CONSUMER_SECRET = env_secret("X_CONSUMER_SECRET", "")
X_OAUTH2_CLIENT_ID = env_str("X_OAUTH2_CLIENT_ID", "")
X_OAUTH2_CLIENT_SECRET = env_secret("X_OAUTH2_CLIENT_SECRET", "")
X_OAUTH2_REDIRECT_URI = env_str("X_OAUTH2_REDIRECT_URI", f"{SITE_URL.rstrip('/')}/accounts/connect/callback/")
X_MEDIA_MAX_WAIT = env_float("X_MEDIA_MAX_WAIT", 300.0)
PUBLISH_MAX_ATTEMPTS = env_int("PUBLISH_MAX_ATTEMPTS", 8, minimum=1)
# A post in flight (uploading/processing/posting) untouched this long lost its task: it is resumed (and reconciled).
PUBLISH_STALE_AFTER = env_int("PUBLISH_STALE_AFTER", 600, minimum=5)
X_MADE_WITH_AI = env_bool("X_MADE_WITH_AI", True)

# Rendering.
CLIPCAST_MODEL_PATH = env_str("CLIPCAST_MODEL_PATH", "")
# Extra model keys a campaign may pick: "key=/path/to/diffusers/folder,other=Org/Name" (a Hugging Face hub id).
CLIPCAST_MODELS = env_models("CLIPCAST_MODELS")
CLIPCAST_DEVICE = env_str("CLIPCAST_DEVICE", "auto")
CLIPCAST_DTYPE = env_str("CLIPCAST_DTYPE", "auto")
CLIPCAST_CPU_OFFLOAD = env_bool("CLIPCAST_CPU_OFFLOAD", False)
# GPU performance settings (generation/engine/performance.py; docs/MODELS.md), applied once per worker process.
CLIPCAST_ATTENTION = env_choice("CLIPCAST_ATTENTION", "sdpa", performance.ATTENTION)
CLIPCAST_COMPILE = env_choice("CLIPCAST_COMPILE", "off", performance.COMPILE)
# CLIPCAST_CPU_OFFLOAD=1 is the older spelling of CLIPCAST_OFFLOAD=model.
CLIPCAST_OFFLOAD = env_choice("CLIPCAST_OFFLOAD", "model" if CLIPCAST_CPU_OFFLOAD else "none", performance.OFFLOAD)
CLIPCAST_LAYERWISE_CASTING = env_choice("CLIPCAST_LAYERWISE_CASTING", "off", performance.LAYERWISE_CASTING)
CLIPCAST_QUANTIZATION = env_choice("CLIPCAST_QUANTIZATION", "none", performance.QUANTIZATION)
CLIPCAST_VAE_TILING = env_choice("CLIPCAST_VAE_TILING", "auto", performance.SWITCH)
CLIPCAST_VAE_SLICING = env_choice("CLIPCAST_VAE_SLICING", "auto", performance.SWITCH)
CLIPCAST_VAE_FP32 = env_choice("CLIPCAST_VAE_FP32", "auto", performance.SWITCH)
if CLIPCAST_LAYERWISE_CASTING != "off" and CLIPCAST_QUANTIZATION != "none":
    raise ImproperlyConfigured(
        "CLIPCAST_LAYERWISE_CASTING and CLIPCAST_QUANTIZATION both change how the denoiser's weights are stored: "
        "set one of them (the other to off / none)."
    )
# CPU threads for torch in a render process (0: torch's default, one per core). More threads than free cores
# make OpenMP spin against other processes: a render worker sharing a small machine is faster with fewer.
CLIPCAST_TORCH_THREADS = env_int("CLIPCAST_TORCH_THREADS", 0, minimum=0)
CLIPCAST_MAX_CLIPS_PER_BATCH = env_int("CLIPCAST_MAX_CLIPS_PER_BATCH", 500, minimum=1)
# Brand LoRAs: the largest upload accepted, and where a render worker keeps the files it fetched from media
# storage (by sha256, so each file is downloaded once per host).
CLIPCAST_LORA_MAX_MB = env_int("CLIPCAST_LORA_MAX_MB", 512, minimum=1)
CLIPCAST_LORA_CACHE_DIR = Path(env_str("CLIPCAST_LORA_CACHE_DIR", str(VAR_DIR / "lora-cache")))
RENDER_SOFT_TIME_LIMIT = env_int("RENDER_SOFT_TIME_LIMIT", 1800, minimum=10)
RENDER_HARD_TIME_LIMIT = env_int("RENDER_HARD_TIME_LIMIT", 2100, minimum=10)
RENDER_STALE_AFTER = env_int("RENDER_STALE_AFTER", 300, minimum=10)
# A queued clip whose message is this old is enqueued again: a broker restart without persistence loses messages,
# and a duplicate is harmless (the claim is atomic). Keep it above the usual queue wait.
RENDER_REQUEUE_AFTER = env_int("RENDER_REQUEUE_AFTER", 1800, minimum=5)
# Seconds to wait before retrying a task that lost its database connection (a PostgreSQL restart, a failover).
DATABASE_RETRY_DELAY = env_int("DATABASE_RETRY_DELAY", 5, minimum=1)
if RENDER_HARD_TIME_LIMIT <= RENDER_SOFT_TIME_LIMIT:
    raise ImproperlyConfigured("RENDER_HARD_TIME_LIMIT must be greater than RENDER_SOFT_TIME_LIMIT.")
# Render cost and render-aware scheduling. A clip's cost is estimated from measured renders of its model and size;
# with none yet, from this default (device seconds per clip).
RENDER_DEFAULT_ESTIMATE_SECONDS = env_float("RENDER_DEFAULT_ESTIMATE_SECONDS", 60.0, minimum=0.1)
RENDER_QUOTA_WARN_PERCENT = env_int("RENDER_QUOTA_WARN_PERCENT", 80, minimum=1, maximum=100)
# Clips the render workers make at once, all together: the late-clip forecast shares the queue among them.
RENDER_WORKER_SLOTS = env_int("RENDER_WORKER_SLOTS", 1, minimum=1)
# A due post whose clip is not rendered (or approved) yet waits this many seconds for it, then fails with the reason.
POST_CLIP_GRACE = env_int("POST_CLIP_GRACE", 1800, minimum=0)

# Celery: Redis/RabbitMQ in production; an embedded filesystem broker for zero-setup `make run`.
BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    for sub in ("queue", "processed", "control"):
        (BROKER_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
else:
    # With acks_late a task not acknowledged within this window is redelivered: keep it above the render limit.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": RENDER_HARD_TIME_LIMIT + 600}
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", "") or None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_QUEUES = (
    Queue("default", Exchange("default"), routing_key="default"),
    Queue("gpu", Exchange("gpu"), routing_key="gpu"),
    Queue("publish", Exchange("publish"), routing_key="publish"),
)
CELERY_TASK_ROUTES = {
    # Housekeeping of the render and publish apps runs beside beat, never behind a long render.
    "generation.tasks.reap_stuck_clips": {"queue": "default", "routing_key": "default"},
    "publishing.tasks.dispatch_due_posts": {"queue": "default", "routing_key": "default"},
    "publishing.tasks.requeue_stale_posts": {"queue": "default", "routing_key": "default"},
    "generation.tasks.*": {"queue": "gpu", "routing_key": "gpu"},
    "publishing.tasks.*": {"queue": "publish", "routing_key": "publish"},
}
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A render process loads its pipeline in worker_process_init, before it reports itself up. Celery kills a new pool
# process that stays silent longer than this (its default is 4 s): after any crash, every replacement loading real
# weights would be killed in turn, and the worker would never render again.
CELERY_WORKER_PROC_ALIVE_TIMEOUT = env_int("WORKER_START_TIMEOUT", 300, minimum=1)
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
HEARTBEAT_INTERVAL = env_int("HEARTBEAT_INTERVAL", 30, minimum=1)
# Every beat entry expires: a tick that waited longer than its interval is dropped, never replayed in a burst.
REAP_INTERVAL = env_int("REAP_INTERVAL", 60, minimum=1)
DISPATCH_INTERVAL = env_int("DISPATCH_INTERVAL", 15, minimum=1, maximum=30)
METRICS_INTERVAL = env_int("METRICS_INTERVAL", 900, minimum=10)
CELERY_BEAT_SCHEDULE = {
    "beat-heartbeat": {
        "task": "clipcast.tasks.beat_heartbeat",
        "schedule": float(HEARTBEAT_INTERVAL),
        "options": {"expires": HEARTBEAT_INTERVAL, "queue": "default"},
    },
    "dispatch-due-posts": {
        "task": "publishing.tasks.dispatch_due_posts",
        "schedule": float(DISPATCH_INTERVAL),
        "options": {"expires": DISPATCH_INTERVAL, "queue": "default"},
    },
    "requeue-stale-posts": {
        "task": "publishing.tasks.requeue_stale_posts",
        "schedule": float(REAP_INTERVAL),
        "options": {"expires": REAP_INTERVAL, "queue": "default"},
    },
    "refresh-metrics": {
        "task": "publishing.tasks.refresh_metrics",
        "schedule": float(METRICS_INTERVAL),
        "options": {"expires": METRICS_INTERVAL, "queue": "publish"},
    },
    "reap-stuck-clips": {
        "task": "generation.tasks.reap_stuck_clips",
        "schedule": float(REAP_INTERVAL),
        "options": {"expires": REAP_INTERVAL, "queue": "default"},
    },
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": [
        "clipcast.parsers.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "clipcast.openapi.ClipcastAutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_THROTTLE_CLASSES": [
        "clipcast.login_throttle.AnonRateThrottle",
        "clipcast.login_throttle.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_str("API_THROTTLE_ANON", "60/min"),
        "user": env_str("API_THROTTLE_USER", "6000/min"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Clipcast API",
    "DESCRIPTION": "Campaigns, prompt templates, clips, reviews and scheduled posts on X.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI's assets are served by us (drf-spectacular-sidecar), never from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several models have a `status`: each choice set gets its own schema name instead of a numbered guess.
    "ENUM_NAME_OVERRIDES": {
        "CampaignStatusEnum": "campaigns.models.CampaignStatus",
        "ClipStatusEnum": "generation.models.ClipStatus",
        "ReviewStatusEnum": "generation.models.ReviewStatus",
        "AccountStatusEnum": "publishing.models.AccountStatus",
        "PostStatusEnum": "publishing.models.PostStatus",
        "InvitationStatusEnum": "accounts.models.InvitationStatus",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}

# Production hardening: on unless DEBUG; TLS is terminated in front of Django.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = env_str("CONTENT_SECURITY_POLICY", "") or None
LOGIN_MAX_FAILURES = env_int("LOGIN_MAX_FAILURES", 10, minimum=1)
LOGIN_LOCKOUT_SECONDS = env_int("LOGIN_LOCKOUT_SECONDS", 900, minimum=1)
INVITATION_EXPIRY_DAYS = env_int("INVITATION_EXPIRY_DAYS", 7, minimum=1, maximum=90)

os.environ.setdefault("HF_HUB_OFFLINE", "1")
