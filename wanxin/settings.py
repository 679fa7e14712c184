"""Settings, read from the environment with working defaults for the embedded mode.

Environment (see README): WANXIN_ENV, WANXIN_ROLE, DATABASE_URL, BANK_DATABASE_URL,
REDIS_URL, WANXIN_LOCAL_SERVICES, SECRET_KEY, WANXIN_PLATFORM_NO, BANK_URL,
PLATFORM_BASE_URL, PLATFORM_NOTIFY_URL, WANXIN_KEY_DIR, *_KEY / *_KEY_FILE.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from wanxin import config

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("WANXIN_VAR_DIR", BASE_DIR / "var"))

ENV = os.environ.get("WANXIN_ENV", "development")  # development | test | production
PRODUCTION = ENV == "production"
ROLE = os.environ.get("WANXIN_ROLE", "all")  # platform | bank | all
if ROLE not in ("platform", "bank", "all"):
    raise ImproperlyConfigured("WANXIN_ROLE must be platform, bank or all")
SERVES_BANK = ROLE in ("bank", "all")
SERVES_PLATFORM = ROLE in ("platform", "all")

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured("SECRET_KEY must be set in production")
    SECRET_KEY = "dev-only-insecure-key-wanxin"
# Off unless asked for, in every environment: Django's debug pages list every URL pattern and
# setting to whoever finds an error. ``WANXIN_DEBUG=1`` turns them on for a developer.
DEBUG = os.environ.get("WANXIN_DEBUG", "0") == "1"
ALLOWED_HOSTS = [h for h in os.environ.get("ALLOWED_HOSTS", "*" if not PRODUCTION else "").split(",") if h]


# -- databases ---------------------------------------------------------------------------


# Where they are and how they are pooled: wanxin/config.py.
DATABASES = config.databases(env=ENV, role=ROLE, production=PRODUCTION)
DATABASE_ROUTERS = ["wanxin.dbrouter.ServiceRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


# -- cache --------------------------------------------------------------------------------

REDIS_URL = config.redis_url()
# Redis when there is one (key prefix per test run), the database cache otherwise.
CACHES = config.caches(env=ENV, redis=REDIS_URL)


# -- apps ---------------------------------------------------------------------------------

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "wanxin.web",
]
if SERVES_BANK:
    INSTALLED_APPS.append("wanxin.bank")
if SERVES_PLATFORM:
    INSTALLED_APPS += [
        # Listed so /api/v1/docs serves Swagger UI from django-ninja's own static files, not a CDN
        # (which the CSP would refuse).
        "ninja",
        "axes",
        "wanxin.accounts",
        "wanxin.notifications",
        "wanxin.depository",
        "wanxin.funds",
        "wanxin.audit",
        "wanxin.kyc",
        "wanxin.risk",
        "wanxin.backoffice",
        "wanxin.repayments",
        "wanxin.lending",
        "wanxin.allocation",
        "wanxin.reconciliation",
        "wanxin.charts",
        "wanxin.targets",
        "wanxin.statistics",
    ]
# The platform's own user model; a bank-only process keeps Django's for its staff.
AUTH_USER_MODEL = "accounts.User" if SERVES_PLATFORM else "auth.User"

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "wanxin.web.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Refuses NUL characters, oversized and malformed bodies with a 4xx before any view runs.
    "wanxin.web.middleware.InputGuardMiddleware",
]
if SERVES_PLATFORM:
    # django-axes locks out repeated failed logins; it must be the last middleware.
    MIDDLEWARE.append("axes.middleware.AxesMiddleware")

AUTHENTICATION_BACKENDS = (
    ["axes.backends.AxesStandaloneBackend"] if SERVES_PLATFORM else []
) + ["django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(os.environ.get("AXES_COOLOFF_HOURS", "0.5"))  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_ENABLED = os.environ.get("AXES_ENABLED", "1") == "1"
# Reverse proxies whose X-Forwarded-For is believed (IPs or CIDRs, comma-separated; none by
# default): lockouts, SMS per-IP limits and the audit log then see the real client, and a
# client elsewhere cannot pick its own address (wanxin/accounts/client_address.py).
WANXIN_TRUSTED_PROXIES = [p.strip() for p in os.environ.get("WANXIN_TRUSTED_PROXIES", "").split(",") if p.strip()]
AXES_CLIENT_IP_CALLABLE = "wanxin.accounts.client_address.client_address"

ROOT_URLCONF = "wanxin.urls"
WSGI_APPLICATION = "wanxin.wsgi.application"
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
            ]
        },
    }
]

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# -- languages: Simplified Chinese first, English second. LocaleMiddleware picks the language
# from the switch's cookie, then Accept-Language, then LANGUAGE_CODE. Catalogues live in each
# app's locale/ and are compiled by `manage.py compile_catalogues` (pure Python, no msgfmt).
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]  # the switch shows each in its own language
# Every catalogue of ours (one per app, and core's) is listed so that ours win over Django's
# own apps' wording of the same text (the admin's "Log out" is "注销"; ours is "退出").
LOCALE_PATHS = sorted((BASE_DIR / "wanxin").glob("*/locale"))
LANGUAGE_COOKIE_NAME = "wanxin_language"
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
TIME_ZONE = "Asia/Shanghai"  # the bank's business day is Beijing time
USE_I18N = True
USE_TZ = True

# -- transport security (production) -----------------------------------------------------

# HTTPS only: the browser is told to stay on HTTPS (HSTS), cookies never travel in clear, and
# plain HTTP is redirected (except /health, for load balancers checking over HTTP).
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(365 * 24 * 3600) if PRODUCTION else "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = PRODUCTION
SECURE_HSTS_PRELOAD = PRODUCTION
SECURE_SSL_REDIRECT = os.environ.get("SECURE_SSL_REDIRECT", "1" if PRODUCTION else "0") == "1"
SECURE_REDIRECT_EXEMPT = [r"^health$"]
# Behind a TLS-terminating proxy, the proxy's X-Forwarded-Proto says whether the client used HTTPS.
if os.environ.get("SECURE_PROXY_SSL_HEADER") == "1":
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = PRODUCTION
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"


# Content-Security-Policy on every response (wanxin/web/csp.py): scripts and styles only from
# our own static files, no inline code; forms may post only here and (added per response) to
# the bank at BANK_URL, where the hand-off pages send the customer.
CONTENT_SECURITY_POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "frame-ancestors": ["'none'"],
    "form-action": ["'self'"],
}

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
# Browser libraries installed from the npm registry by scripts/ensure_echarts.sh (make run /
# make test), served as static/vendor/...; absent until then (charts fall back to tables).
VENDOR_STATIC_DIR = VAR_DIR / "vendor"
STATICFILES_DIRS = [("vendor", VENDOR_STATIC_DIR)] if VENDOR_STATIC_DIR.is_dir() else []
DATA_UPLOAD_MAX_MEMORY_SIZE = 512 * 1024

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
    "loggers": {"wanxin": {"level": os.environ.get("WANXIN_LOG_LEVEL", "INFO")}},
}


# -- personal data ------------------------------------------------------------------------

# Secret for field encryption and blind indexes; key ids allow rotation (first = current).
FIELD_ENCRYPTION_SECRET = os.environ.get("FIELD_ENCRYPTION_SECRET", "")
if not FIELD_ENCRYPTION_SECRET:
    if PRODUCTION:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_SECRET must be set in production")
    FIELD_ENCRYPTION_SECRET = "dev-only-field-secret-" + SECRET_KEY
FIELD_ENCRYPTION_KEY_IDS = os.environ.get("FIELD_ENCRYPTION_KEY_IDS", "k1")
MEDIA_ROOT = Path(os.environ.get("WANXIN_PRIVATE_MEDIA", VAR_DIR / "private"))  # never served directly
LOGIN_URL = "/accounts/login"
BACKOFFICE_LOGIN_URL = "/backoffice/login"


# -- depository protocol ------------------------------------------------------------------

PLATFORM_NO = os.environ.get("WANXIN_PLATFORM_NO", "WANXIN")
PORT = int(os.environ.get("PORT", "8000"))
PLATFORM_BASE_URL = os.environ.get("PLATFORM_BASE_URL", f"http://127.0.0.1:{PORT}")
BANK_URL = os.environ.get("BANK_URL", f"http://127.0.0.1:{PORT}/bank")
PLATFORM_NOTIFY_URL = os.environ.get(
    "PLATFORM_NOTIFY_URL", f"{PLATFORM_BASE_URL}/api/v1/depository/notify"
)
KEY_DIR = Path(os.environ.get("WANXIN_KEY_DIR", VAR_DIR / "keys"))




def _key(env_name: str, pair: str, suffix: str) -> str:
    return config.pem(env_name, pair, suffix, production=PRODUCTION, key_dir=KEY_DIR)


# What the platform holds: its own private key and the bank's public key.
PLATFORM_PRIVATE_KEY = _key("PLATFORM_PRIVATE_KEY", "platform", "key") if SERVES_PLATFORM else ""
BANK_PUBLIC_KEY = _key("BANK_PUBLIC_KEY", "bank", "pub") if SERVES_PLATFORM else ""
# What the bank holds: its own private key and, per platform, the public key and notifyUrl.
BANK_PRIVATE_KEY = _key("BANK_PRIVATE_KEY", "bank", "key") if SERVES_BANK else ""
BANK_PLATFORMS = {
    PLATFORM_NO: {
        "public_key": _key("PLATFORM_PUBLIC_KEY", "platform", "pub") if SERVES_BANK else "",
        "notify_url": os.environ.get("BANK_NOTIFY_URL", PLATFORM_NOTIFY_URL),
    }
}

BANK_HTTP_TIMEOUT = float(os.environ.get("BANK_HTTP_TIMEOUT", "10"))
# Bids answered at once, their freezes sent by the outbox senders; off in tests: sent in the
# bid's own thread after commit, so a test sees the bank's answer (depository.outbox).
DEPOSITORY_SEND_IN_BACKGROUND = os.environ.get("DEPOSITORY_SEND_IN_BACKGROUND", "0" if ENV == "test" else "1") == "1"
# Simulated balance of every newly bound card at the bank (fen); the card network's edge.
BANK_SIMULATED_CARD_BALANCE = int(os.environ.get("BANK_SIMULATED_CARD_BALANCE", str(10_000_000_00)))
# How long a gateway page may stay unanswered before the bank fails the request.
BANK_GATEWAY_EXPIRY_SECONDS = int(os.environ.get("BANK_GATEWAY_EXPIRY_SECONDS", "1800"))
# The platform looks up requests still pending after this many seconds.
# A final bank result no handler takes (depository.results): an error that fails the test
# under test; logged and counted (IgnoredBankResult UNROUTED) elsewhere.
DEPOSITORY_UNROUTED_RAISES = ENV == "test"
DEPOSITORY_RECOVERY_AFTER_SECONDS = int(os.environ.get("DEPOSITORY_RECOVERY_AFTER_SECONDS", "60"))
# The outbox sender (decision record 0007): a BATCH of 1,000 items may take the bank seconds, so
# it waits up to DEPOSITORY_OUTBOX_SEND_TIMEOUT for an answer; a claimed request is the claiming
# sender's for DEPOSITORY_OUTBOX_LEASE_SECONDS (well over a BATCH's worst send: 3 tries), then
# another sender or recovery takes it back; senders that find nothing wait this long for a
# NOTIFY at most.
DEPOSITORY_OUTBOX_SEND_TIMEOUT = float(os.environ.get("DEPOSITORY_OUTBOX_SEND_TIMEOUT", "60"))
DEPOSITORY_OUTBOX_LEASE_SECONDS = int(os.environ.get("DEPOSITORY_OUTBOX_LEASE_SECONDS", "300"))
DEPOSITORY_OUTBOX_IDLE_SECONDS = float(os.environ.get("DEPOSITORY_OUTBOX_IDLE_SECONDS", "30"))
DEPOSITORY_OUTBOX_BATCH = int(os.environ.get("DEPOSITORY_OUTBOX_BATCH", "1000"))
# A request sent without an answer is given back: sent again after this backoff, doubled with
# each attempt up to the maximum (recovery may look it up at once).
DEPOSITORY_OUTBOX_RETRY_SECONDS = float(os.environ.get("DEPOSITORY_OUTBOX_RETRY_SECONDS", "1"))
DEPOSITORY_OUTBOX_RETRY_MAX_SECONDS = float(os.environ.get("DEPOSITORY_OUTBOX_RETRY_MAX_SECONDS", "60"))
# Sender threads of a `make run` process and of each Celery worker process (0: none there).
DEPOSITORY_OUTBOX_SENDERS = int(os.environ.get("DEPOSITORY_OUTBOX_SENDERS", "1"))

# Celery (production); the embedded mode runs the same jobs on a scheduler thread.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", REDIS_URL or "memory://")
CELERY_TASK_ALWAYS_EAGER = not bool(os.environ.get("CELERY_BROKER_URL") or REDIS_URL)


# -- notifications / sms ---
# Backend by dotted path: the console/file backend in development (var/sms.log), the
# in-memory outbox in tests, the HTTP provider in production (refuses until configured).
SMS_BACKEND = os.environ.get(
    "SMS_BACKEND",
    {
        "test": "wanxin.notifications.backends.MemoryBackend",
        "production": "wanxin.notifications.provider.ProviderBackend",
    }.get(ENV, "wanxin.notifications.backends.ConsoleBackend"),
)
# Backends that keep messages instead of delivering them. Only with one of these does /dev/sms
# exist (never in production): the development stand-in for a phone, so the demo's registration,
# SMS login and password reset can be tried in a browser without a real SMS provider.
SMS_SIMULATED_BACKENDS = ("wanxin.notifications.backends.ConsoleBackend",
                          "wanxin.notifications.backends.MemoryBackend")
SMS_PROVIDER_URL = os.environ.get("SMS_PROVIDER_URL", "")
SMS_PROVIDER_API_KEY = os.environ.get("SMS_PROVIDER_API_KEY", "")
SMS_PROVIDER_TIMEOUT = float(os.environ.get("SMS_PROVIDER_TIMEOUT", "5"))
SMS_SIGNATURE = os.environ.get("SMS_SIGNATURE", "【万信】")
# The sending log keeps codes readable only outside production (the /dev/sms page needs them).
SMS_LOG_REDACT_SECRETS = os.environ.get("SMS_LOG_REDACT_SECRETS", "1" if PRODUCTION else "0") == "1"
# Verification codes (kept in the cache: Redis when REDIS_URL is set, the database cache otherwise).
SMS_CODE_TTL_SECONDS = int(os.environ.get("SMS_CODE_TTL_SECONDS", "300"))
SMS_CODE_RESEND_SECONDS = int(os.environ.get("SMS_CODE_RESEND_SECONDS", "60"))
SMS_CODE_MAX_TRIES = int(os.environ.get("SMS_CODE_MAX_TRIES", "5"))
SMS_DAILY_LIMIT_PER_PHONE = int(os.environ.get("SMS_DAILY_LIMIT_PER_PHONE", "10"))
SMS_DAILY_LIMIT_PER_IP = int(os.environ.get("SMS_DAILY_LIMIT_PER_IP", "30"))
# Separate test runs sharing one Redis keep apart, like their databases.
SMS_CACHE_PREFIX = "wx:sms:" + (os.environ.get("WANXIN_TEST_DB_SUFFIX", "") + ":").lstrip(":")
# Lockout responses (django-axes): pages and API answers say how long to wait.
AXES_LOCKOUT_CALLABLE = "wanxin.accounts.lockout.lockout_response"


# -- funds ---
# Withdrawal commission, taken at the bank (PROTOCOL WITHDRAW.commission): a fixed part in fen
# plus a rate of the amount, rounded half up to the fen, then held between min and max (0 = no max).
FUNDS_WITHDRAW_COMMISSION = {
    "fixed": int(os.environ.get("FUNDS_WITHDRAW_COMMISSION_FIXED_FEN", "0")),
    "rate": os.environ.get("FUNDS_WITHDRAW_COMMISSION_RATE", "0.001"),
    "min": int(os.environ.get("FUNDS_WITHDRAW_COMMISSION_MIN_FEN", "200")),
    "max": int(os.environ.get("FUNDS_WITHDRAW_COMMISSION_MAX_FEN", "0")),
}
# Largest single recharge or withdrawal (fen): 10 million yuan.
FUNDS_MAX_AMOUNT_FEN = int(os.environ.get("FUNDS_MAX_AMOUNT_FEN", str(10_000_000_00)))
# Allocation: Σ allocated of unsettled allocations stays within this share of PLATFORM_CAPITAL.
ALLOCATION_EXPOSURE_SHARE = os.environ.get("ALLOCATION_EXPOSURE_SHARE", "0.8")
# How long a QUERY_BALANCE answer is reused; money results applied invalidate it at once.
FUNDS_BALANCE_CACHE_SECONDS = int(os.environ.get("FUNDS_BALANCE_CACHE_SECONDS", "10"))
# Separate test runs sharing one Redis keep apart, like their databases.
FUNDS_CACHE_PREFIX = "wx:funds:" + os.environ.get("WANXIN_TEST_DB_SUFFIX", "") + ":"


# -- kyc / backoffice ---------------------------------------------------------------------

# Qualification documents: largest accepted upload (bytes) and active documents per application.
KYC_MAX_UPLOAD_BYTES = int(os.environ.get("KYC_MAX_UPLOAD_BYTES", str(5 * 1024 * 1024)))
KYC_MAX_DOCUMENTS = int(os.environ.get("KYC_MAX_DOCUMENTS", "20"))


# -- statistics and disclosure (issue 13 items 6-7) ------------------------------------------------
# The public disclosure page's figures are computed at most once per this many seconds (it
# aggregates whole tables and anyone may ask for it); 0: every request.
DISCLOSURE_CACHE_SECONDS = int(os.environ.get("DISCLOSURE_CACHE_SECONDS", "60"))


# -- repayments (issue 4 items 6-9) ---------------------------------------------------------------
# Days after the due date before an unpaid period becomes overdue (then counted from the due date).
REPAYMENT_GRACE_DAYS = int(os.environ.get("REPAYMENT_GRACE_DAYS", "3"))
# Penalty interest per overdue day on the period's principal + interest (a decimal fraction).
REPAYMENT_PENALTY_DAILY_RATE = os.environ.get("REPAYMENT_PENALTY_DAILY_RATE", "0.0005")
# Prepayment fee: this fraction of the outstanding principal, rounded half up to the fen.
REPAYMENT_PREPAYMENT_FEE_RATE = os.environ.get("REPAYMENT_PREPAYMENT_FEE_RATE", "0.01")
# Threads of the automatic repayment job: loans repaid at once, each with its own database
# connection and bank round trips (one period per loan per run either way; 1 = one by one).
REPAYMENT_AUTO_WORKERS = int(os.environ.get("REPAYMENT_AUTO_WORKERS", "8"))
# The allocation fee run: allocations decided in one transaction and transfers sent in one
# bank BATCH (at most 1,000), and the threads taking such chunks at once, each with its own
# database connection (allocation/services/fees.py).
ALLOCATION_FEE_BATCH = int(os.environ.get("ALLOCATION_FEE_BATCH", "1000"))
# Seconds to wait for a BATCH's answer (a thousand items take longer than one request).
ALLOCATION_FEE_BATCH_TIMEOUT = float(os.environ.get("ALLOCATION_FEE_BATCH_TIMEOUT", "60"))
# Loans the automatic repayment job starts per transaction (set-based; their freezes then go
# to the bank as BATCHes through the depository outbox, decision record 0007).
REPAYMENT_AUTO_CHUNK = int(os.environ.get("REPAYMENT_AUTO_CHUNK", "500"))
# Threads of the allocation fee run: allocations charged at once, each with its own database
# connection and bank round trips (1 = one by one).
ALLOCATION_FEE_WORKERS = int(os.environ.get("ALLOCATION_FEE_WORKERS", "8"))
# Celery workers only: the automatic repayment job fans out this many tasks, each repaying the
# loans with project_id % shards == its index (with REPAYMENT_AUTO_WORKERS threads), so several
# worker processes share one run. The embedded scheduler runs the whole job in its process.
REPAYMENT_AUTO_SHARDS = int(os.environ.get("REPAYMENT_AUTO_SHARDS", "1"))
# Task modules Celery workers import (the shard tasks of the automatic repayment job).
CELERY_IMPORTS = ["wanxin.repayments.tasks"]
