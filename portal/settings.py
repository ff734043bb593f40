"""One settings module, driven by environment variables (see .env.example).

With nothing set the portal runs on the embedded default: SQLite, and Celery tasks run
in-process. DATABASE_URL and CELERY_BROKER_URL switch to PostgreSQL and Redis."""

from datetime import timedelta
from pathlib import Path

from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

from portal.env import (
    env_all_or_none,
    env_bool,
    env_choice,
    env_cron,
    env_database,
    env_fernet_keys,
    env_int,
    env_is_set,
    env_list,
    env_origins,
    env_proxy_ssl_header,
    env_secret_key,
    env_str,
    env_time_zone,
    fernet_key_derived_from,
)

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", False)
# DEBUG=false declares a deployment, which must bring its own key. DEBUG unset is the
# embedded default (make run, the tests), which starts with nothing set: on a key made for
# this machine and kept in .secret-key; `check --deploy` warns that SECRET_KEY is unset
# (portal/checks.py).
SECRET_KEY = env_secret_key(
    "SECRET_KEY",
    required=env_is_set("DEBUG") and not DEBUG,
    key_file=BASE_DIR / ".secret-key",
)
# Secrets stored in the database are encrypted with these (portal/encryption.py): the first
# encrypts, all decrypt; `manage.py rotate_secrets_key` moves every secret to the first.
# Unset, the key is derived from SECRET_KEY, and `check --deploy` warns.
FIELD_ENCRYPTION_KEYS = env_fernet_keys(
    "FIELD_ENCRYPTION_KEYS", embedded=fernet_key_derived_from(SECRET_KEY)
)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])

# Behind a TLS-terminating proxy (see README, Production). Off by default, so the embedded
# default keeps working over plain HTTP on loopback.
SECURE_PROXY_SSL_HEADER = env_proxy_ssl_header("SECURE_PROXY_SSL_HEADER")
CSRF_TRUSTED_ORIGINS = env_origins("CSRF_TRUSTED_ORIGINS")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", False)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", False)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "axes",
    "csp",
    "django_htmx",
    "template_partials",
    "ninja",
    "portal",
    "slos",
    "retros",
    "toil",
]

# The largest body the portal reads (portal/middleware.py): above every upload's own bound
# (OpenSLO 2 MB a request, CSV 1 MB, intake 1 MB; tests/portal/test_request_size.py checks),
# so those keep their own clear messages, and a flood is refused before it is read.
MAX_REQUEST_BYTES = 4 * 1024 * 1024
# The intake reads at most the start of an oversized body itself and records the delivery
# as rejected, so the team sees it on the intake page.
MAX_REQUEST_BYTES_EXEMPT = ("/api/v1/intake/",)

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Serves the collected ./staticfiles (run collectstatic); before everything else, so
    # a static file costs no session or database work.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # The language a person chose with the switch, over the browser's (portal/language.py).
    "portal.language.UserLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Before anything reads a body (the CSRF check in process_view, the forms).
    "portal.middleware.RequestSizeLimitMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

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
    }
]

DATABASES = {"default": env_database("DATABASE_URL", BASE_DIR / "db.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Sign-in throttling (django-axes, portal/login_throttle.py). Failures are counted per
# account and, separately, per client address: either reaching the limit within the
# cool-off locks that account (from anywhere) or that address (for every account).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    # Authenticates nobody unless OIDC_ENABLED (below).
    "portal.oidc.PortalOIDCBackend",
]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_LOCKOUT_CALLABLE = "portal.login_throttle.lockout_response"
AXES_HTTP_RESPONSE_CODE = 429
# No start-up banner on every manage.py command; lockouts are still logged.
AXES_VERBOSE = False
# The client address is the connection's peer unless this many proxies sit in front and
# each appends to X-Forwarded-For; otherwise a client could pick its own address.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
AXES_CLIENT_IP_CALLABLE = "portal.login_throttle.request_client_address"

# Sign-in through the company's OpenID Connect provider (portal/oidc.py): on when its
# client and all four endpoints are set (the provider's discovery document lists them),
# off when none is, and a start-up error naming the rest when only some are.
_OIDC = (
    env_all_or_none(
        [
            "OIDC_RP_CLIENT_ID",
            "OIDC_RP_CLIENT_SECRET",
            "OIDC_OP_AUTHORIZATION_ENDPOINT",
            "OIDC_OP_TOKEN_ENDPOINT",
            "OIDC_OP_USER_ENDPOINT",
            "OIDC_OP_JWKS_ENDPOINT",
        ]
    )
    or {}
)
OIDC_ENABLED = bool(_OIDC)
OIDC_RP_CLIENT_ID = _OIDC.get("OIDC_RP_CLIENT_ID", "")
OIDC_RP_CLIENT_SECRET = _OIDC.get("OIDC_RP_CLIENT_SECRET", "")
OIDC_OP_AUTHORIZATION_ENDPOINT = _OIDC.get("OIDC_OP_AUTHORIZATION_ENDPOINT", "")
OIDC_OP_TOKEN_ENDPOINT = _OIDC.get("OIDC_OP_TOKEN_ENDPOINT", "")
OIDC_OP_USER_ENDPOINT = _OIDC.get("OIDC_OP_USER_ENDPOINT", "")
OIDC_OP_JWKS_ENDPOINT = _OIDC.get("OIDC_OP_JWKS_ENDPOINT", "")
OIDC_RP_SIGN_ALGO = env_str("OIDC_RP_SIGN_ALGO", "RS256")
OIDC_RP_SCOPES = "openid email profile"
OIDC_USE_PKCE = True
# The name on the login page's button: "Sign in with <name>".
OIDC_PROVIDER_NAME = env_str("OIDC_PROVIDER_NAME", "") or "OpenID Connect"

LANGUAGES = [("en", _("English")), ("ja", _("Japanese"))]
# The language for a browser that asks for none (Accept-Language), and of what the portal
# writes outside anyone's page: Slack alerts, tickets and digests, the nightly pull's
# messages. A person's own choice (portal/language.py) and their browser's come first.
LANGUAGE_CODE = env_choice("LANGUAGE_CODE", "en", [code for code, _name in LANGUAGES])
LOCALE_PATHS = [BASE_DIR / "locale"]
# Named date formats per language: "2 Nov 2026" in English, "2026年11月2日" in Japanese.
FORMAT_MODULE_PATH = ["portal.formats"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = env_time_zone("TIME_ZONE", "UTC")

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env_str("STATIC_ROOT", "") or BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # collectstatic writes a gzipped copy beside each file for whitenoise to serve. No
    # manifest: the embedded default renders pages without having run collectstatic.
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"

# Everything the pages load is served from here (htmx and plotly.js included, see
# STYLE.md 6) and no page has an inline script or event handler. Styles need
# 'unsafe-inline': plotly.js injects <style> elements when it draws a chart.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# Celery. No broker configured means the embedded default: tasks run in-process.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
if not CELERY_BROKER_URL:
    CELERY_BROKER_URL = "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "UTC"
NIGHTLY_PULL_CRON = env_cron("NIGHTLY_PULL_CRON", "0 2 * * *")
CELERY_BEAT_SCHEDULE = {
    "nightly-metric-pull": {
        "task": "slos.tasks.pull_all_sources",
        "schedule": crontab(
            minute=NIGHTLY_PULL_CRON.minute,
            hour=NIGHTLY_PULL_CRON.hour,
            day_of_month=NIGHTLY_PULL_CRON.day_of_month,
            month_of_year=NIGHTLY_PULL_CRON.month_of_year,
            day_of_week=NIGHTLY_PULL_CRON.day_of_week,
        ),
    },
    # Slack outbox: retries whatever is due (the first try is enqueued on commit).
    "deliver-outbox": {"task": "slos.tasks.deliver_outbox", "schedule": crontab()},
    # Hourly, so each team's digest goes out in its own morning (once a local day).
    "ticket-digest": {"task": "slos.tasks.ticket_digest", "schedule": crontab(minute=5)},
    # As each hour begins, every window moves by an hour: the budgets are summed for the
    # hour before anyone opens a page (slos/registry/budget_sums.py).
    "read-budgets-ahead": {"task": "slos.tasks.read_budgets_ahead", "schedule": crontab(minute=0)},
    # Pulls asked for while the broker was down (PullRun "queued"), enqueued once it is back.
    "queued-pulls": {"task": "slos.tasks.queued_pulls_enqueue", "schedule": crontab()},
}
# A broker that does not answer makes a page wait this long (per publish attempt) before
# it says the background work is delayed (slos/tasks.py, task_enqueue).
CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 3}

# Where a team's Slack webhook may point (slos/notifications/webhooks.py): Slack's host
# over HTTPS; a self-hosted relay is added beside it, e.g.
# "hooks.slack.com,relay.example.com" or "hooks.slack.com,http://relay.internal:8080".
SLACK_WEBHOOK_ALLOWED_HOSTS = env_list("SLACK_WEBHOOK_ALLOWED_HOSTS", ["hooks.slack.com"])

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Intake URLs carry a token: masked in request logs (portal/log_filters.py).
    "filters": {"intake_tokens": {"()": "portal.log_filters.IntakeTokenFilter"}},
    "formatters": {
        "django.server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        }
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler"},
        "django.server": {"class": "logging.StreamHandler", "formatter": "django.server"},
    },
    "root": {"handlers": ["console"], "level": "INFO"},
    "loggers": {
        # One line per metric query would drown the log (a nightly pull makes thousands).
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
        "django.request": {"filters": ["intake_tokens"]},
        # runserver's request lines, as Django's default logging has them, token masked.
        "django.server": {
            "handlers": ["django.server"],
            "level": "INFO",
            "propagate": False,
            "filters": ["intake_tokens"],
        },
    },
}
