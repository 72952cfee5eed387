"""LeadHunter settings: one module, configured from the environment only.

Every variable is listed with its default and meaning in README.md ("Configuration").
Django's settings reference: https://docs.djangoproject.com/en/5.2/ref/settings/
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from csp import constants as csp

from leadhunter import env

BASE_DIR = Path(__file__).resolve().parent.parent

# ---------------------------------------------------------------------------------------------
# Environment — parsed first so that a bad value stops start-up with one line naming it.
# ---------------------------------------------------------------------------------------------
try:
    DEBUG = env.boolean("DEBUG", default=False)
    DATA_DIR = Path(env.text("DATA_DIR") or BASE_DIR / "var").resolve()
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    SECRET_KEY = env.secret_key(debug=DEBUG, data_dir=DATA_DIR)
    ALLOWED_HOSTS = env.word_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
    CSRF_TRUSTED_ORIGINS = env.word_list("CSRF_TRUSTED_ORIGINS")
    DATABASES = {"default": env.database(data_dir=DATA_DIR)}
    # A file, not memory, so a Celery worker thread or subprocess in the tests sees the data.
    if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}
        # Covering indexes (INCLUDE) are a PostgreSQL speed-up; SQLite builds them as plain
        # indexes, which is all it needs, so its warning about them is noise.
        SILENCED_SYSTEM_CHECKS = ["models.W040"]
    REDIS_URL = env.redis_url()
    _email = env.email()
    HTTPS = env.boolean("HTTPS", default=not DEBUG)
    BEHIND_PROXY = env.boolean("BEHIND_PROXY", default=False)
    TIME_ZONE = env.text("TIME_ZONE", "UTC")
    DEFAULT_FROM_EMAIL = env.text("DEFAULT_FROM_EMAIL", "LeadHunter <leadhunter@localhost>")
    SITE_URL = env.text("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
    CELERY_WORKER_CONCURRENCY = env.integer("CELERY_WORKER_CONCURRENCY", default=2)
    CELERY_VISIBILITY_TIMEOUT = env.integer("CELERY_VISIBILITY_TIMEOUT", default=120)
    if CELERY_VISIBILITY_TIMEOUT < 3:
        raise env.ConfigError("CELERY_VISIBILITY_TIMEOUT must be at least 3 (seconds)")
    WORKER_HEARTBEAT_INTERVAL = env.integer("WORKER_HEARTBEAT_INTERVAL", default=10)
    if WORKER_HEARTBEAT_INTERVAL < 1:
        raise env.ConfigError("WORKER_HEARTBEAT_INTERVAL must be at least 1 (seconds)")
    IMPORT_MAX_BYTES = env.integer("IMPORT_MAX_MB", default=20) * 1024 * 1024
    CAPTURE_IMAP_URL = env.imap_url("CAPTURE_IMAP_URL")
    CAPTURE_ADDRESS = env.capture_address("CAPTURE_ADDRESS")
    if CAPTURE_IMAP_URL and not CAPTURE_ADDRESS:
        raise env.ConfigError("CAPTURE_ADDRESS must be set with CAPTURE_IMAP_URL")
    EMAIL_CREDENTIALS_KEY = env.fernet_key(
        "EMAIL_CREDENTIALS_KEY", debug=DEBUG, secret_key=SECRET_KEY
    )
except env.ConfigError as error:
    env.fail(error)

if "*" in ALLOWED_HOSTS and not DEBUG:
    env.fail(env.ConfigError("ALLOWED_HOSTS must list real host names, not '*'"))

# ---------------------------------------------------------------------------------------------
# Applications — https://docs.djangoproject.com/en/5.2/ref/settings/#installed-apps
# ---------------------------------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "django_celery_beat",
    "simple_history",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "axes",
    "accounts",
    "leads",
    "referrals",
    "icp",
    "forecast",
    "reminders",
    "reports",
    "api",
    "imports",
    "ops",
    "audit",
    "team",
    "privacy",
    "handraise",
    "emails",
    "prospecting",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "leadhunter.middleware.PrivateNoStoreMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "accounts.middleware.LoginRequiredMiddleware",
    "accounts.middleware.UserTimeZoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "leadhunter.urls"
WSGI_APPLICATION = "leadhunter.wsgi.application"

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
                "accounts.context_processors.navigation",
            ],
        },
    },
]

# ---------------------------------------------------------------------------------------------
# Database — https://docs.djangoproject.com/en/5.2/ref/settings/#databases
# ---------------------------------------------------------------------------------------------
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# ---------------------------------------------------------------------------------------------
# Cache — shared by the web server and the workers (rescore coalescing keys live here).
# https://docs.djangoproject.com/en/5.2/topics/cache/
# ---------------------------------------------------------------------------------------------
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "leadhunter",
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(DATA_DIR / "cache"),
        }
    }
# Per process, in memory: template fragments that are the same for every request while the
# process runs (the lead list's blank quick-add form), drawn once instead of per request.
# A restart (each deploy) empties it. https://docs.djangoproject.com/en/5.2/topics/cache/#template-fragment-caching
CACHES["fragments"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "fragments",
}

# ---------------------------------------------------------------------------------------------
# Authentication — https://docs.djangoproject.com/en/5.2/topics/auth/customizing/
# ---------------------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "today"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
SALES_MANAGERS_GROUP = "Sales managers"
# django-axes first: it refuses a locked-out username+IP before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # ModelBackend, whose logged-in user carries the manager flag (one query fewer a request).
    "accounts.backends.UserBackend",
]

# ---------------------------------------------------------------------------------------------
# Security — https://docs.djangoproject.com/en/5.2/howto/deployment/checklist/
# ---------------------------------------------------------------------------------------------
# Django's database sessions, read without the ORM (leadhunter/sessions.py): every request.
SESSION_ENGINE = "leadhunter.sessions"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS
SECURE_HSTS_SECONDS = 31_536_000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
# /healthz is probed over plain HTTP by the container orchestrator.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
if BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Content-Security-Policy on every response (django-csp): scripts and styles only from our
# own static files, so an injected <script>, onclick= or style= does nothing. The API docs
# page (Swagger UI) relaxes it for itself only: api/urls.py.
# https://django-csp.readthedocs.io/en/latest/configuration.html
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [csp.SELF],
        "script-src": [csp.SELF],
        "style-src": [csp.SELF],
        "img-src": [csp.SELF, "data:"],
        "frame-ancestors": [csp.NONE],
        "form-action": [csp.SELF],
        "base-uri": [csp.SELF],
        "object-src": [csp.NONE],
    }
}

# Login lockout (django-axes): 5 failed logins for one username from one IP lock that pair
# out for 15 minutes; a successful login clears the count. Unknown usernames count the same.
# https://django-axes.readthedocs.io/en/latest/4_configuration.html
# 5 wrong passwords per username + address, and 30 per address whatever the usernames
# (accounts/lockout.py failure_limit), then 15 minutes' wait.
# Password reset links a visitor may ask for in an hour (accounts.services.password_reset_request).
PASSWORD_RESETS_PER_ADDRESS = 3
PASSWORD_RESETS_PER_IP = 10
LOGIN_FAILURES_PER_USERNAME = 5
LOGIN_FAILURES_PER_ADDRESS = 30
# The public page's form (handraise): a person takes at least this long to fill it in; a
# form older than a day is handed out again. Submissions per hour from one address, and to one
# page from all addresses (counted in the cache; beyond them the visitor sees a 429 page).
HAND_RAISE_MIN_FILL_SECONDS = 3
HAND_RAISE_FORM_MAX_AGE = 24 * 3600
HAND_RAISE_THROTTLE_WINDOW = 3600
HAND_RAISES_PER_IP = 5
HAND_RAISES_PER_PAGE = 60
AXES_FAILURE_LIMIT = "accounts.lockout.failure_limit"
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.lockout.locked_out"
AXES_CLIENT_IP_CALLABLE = "accounts.lockout.client_ip"

# ---------------------------------------------------------------------------------------------
# Internationalisation — https://docs.djangoproject.com/en/5.2/topics/i18n/
# ---------------------------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
USE_I18N = True
# Day-month-year and 24-hour times, as on the app's own pages (leadhunter/formats/en).
FORMAT_MODULE_PATH = ["leadhunter.formats"]
USE_TZ = True

# ---------------------------------------------------------------------------------------------
# Static files — served by whitenoise, also under gunicorn.
# https://whitenoise.readthedocs.io/en/stable/django.html
# ---------------------------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise warns at start-up when it is missing
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# ---------------------------------------------------------------------------------------------
# Email — https://docs.djangoproject.com/en/5.2/topics/email/
# ---------------------------------------------------------------------------------------------
globals().update(_email)
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# ---------------------------------------------------------------------------------------------
# Celery — https://docs.celeryq.dev/en/stable/userguide/configuration.html
# ---------------------------------------------------------------------------------------------
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    # A worker renews the lease of every message it holds (leadhunter/redis_broker.py), so
    # the visibility timeout is how long the messages of a dead worker wait before another
    # worker gets them, not a cap on how long a task may run. Each worker sweeps for expired
    # leases every 10 s (a third of the timeout when shorter; kombu sweeps every 100 s).
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {
        "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
        "unacked_restore_interval": max(1, min(10, CELERY_VISIBILITY_TIMEOUT // 3)),
        "unacked_restore_throttle": 1,
    }
else:
    # kombu's filesystem transport: a broker that needs no server, for one host.
    _broker_dir = DATA_DIR / "broker"
    for _folder in ("queue", "processed", "control"):
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
        "polling_interval": 0.5,
    }
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_SOFT_TIME_LIMIT = 300
CELERY_TASK_TIME_LIMIT = 360
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = TIME_ZONE

# ---------------------------------------------------------------------------------------------
# REST API — per-user bearer tokens, JSON only, errors as {"error", "fields"}.
# https://www.django-rest-framework.org/api-guide/settings/
# https://drf-spectacular.readthedocs.io/en/latest/settings.html
# ---------------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    # The token class comes first: its WWW-Authenticate header makes a missing token a 401.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["api.parsers.BoundedJSONParser"],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.NewestFirstCursorPagination",
    "DEFAULT_SCHEMA_CLASS": "api.schema.ApiAutoSchema",
    "EXCEPTION_HANDLER": "api.exceptions.api_exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "LeadHunter API",
    "DESCRIPTION": (
        "Leads, activities, follow-ups, referral sources and ICPs. Authenticate with "
        "`Authorization: Bearer <token>`; create a token under Settings → API tokens. "
        "Times are ISO 8601 and answered in UTC; a time sent without an offset is read as UTC. "
        'Errors are JSON: `{"error": "…", "fields": {"<field>": ["…"]}}`.'
    ),
    "VERSION": "1",
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI from the sidecar package's static files: the app works offline, no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "persistAuthorization": False},
    "ENUM_NAME_OVERRIDES": {
        "ActivityKindEnum": "leads.models.ActivityKind",
        # What a client may send: every kind but a referral ask (api/schema.py).
        "LoggableActivityKindEnum": "api.serializers.LOGGABLE_ACTIVITY_KINDS",
        "ActivityOutcomeEnum": "leads.models.Outcome",
        "DirectionEnum": "leads.models.Direction",
        "FollowUpKindEnum": "leads.models.FollowUpKind",
        "FollowUpResolutionEnum": "leads.models.FollowUpResolution",
        "ReferralSourceKindEnum": "referrals.models.SourceKind",
        "AskChannelEnum": "referrals.models.AskChannel",
        "AskOutcomeEnum": "referrals.models.AskOutcome",
        "CriterionFieldEnum": "icp.models.Field",
        "CriterionOperatorEnum": "icp.models.Operator",
    },
}

# ---------------------------------------------------------------------------------------------
# Logging — everything to stderr; the process manager keeps the logs.
# ---------------------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "filters": {
        "without_refusal_tracebacks": {"()": "leadhunter.log_filters.WithoutTracebacksOfRefusals"}
    },
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["stderr"], "level": env.text("LOG_LEVEL", "INFO")},
    "loggers": {
        # django-axes logs every login at INFO; its lockouts are warnings and still show.
        "axes": {"level": "WARNING"},
        # Django's own console handler (DEBUG only) would print each of its records a second
        # time beside the root's.
        "django": {"handlers": [], "level": "INFO"},
        # A refused request (403, 404) is one line; leadhunter.log_filters says why.
        "django.request": {"filters": ["without_refusal_tracebacks"]},
        # Celery logs each task received, succeeded or retried at INFO, and beat each task it
        # sends: hundreds of lines after a bulk edit, burying what matters. A failed task is
        # an ERROR of celery.app.trace and still shows; the bulk jobs log one summary line
        # each (icp/tasks.py, imports/tasks.py, leads/tasks.py, reminders/services.py).
        "celery.app.trace": {"level": "WARNING"},
        "celery.worker.strategy": {"level": "WARNING"},
        "celery.beat": {"level": "WARNING"},
    },
}
