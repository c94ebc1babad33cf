"""Configuration from environment variables; the embedded default needs none of them."""
from __future__ import annotations

import os
import secrets
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INSTANCE = Path(os.environ.get("TENDERBOX_INSTANCE", ROOT / "instance"))


def _secret_key() -> str:
    """SECRET_KEY from the environment, else one generated once and kept under instance/."""
    if key := os.environ.get("SECRET_KEY"):
        return key
    path = INSTANCE / "secret_key"
    if not path.exists():
        INSTANCE.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    return default if value is None else value.lower() in {"1", "true", "yes", "on"}


_RENDER_LEASE_SECONDS = int(os.environ.get("RENDER_LEASE_SECONDS", "150"))


class Config:
    SECRET_KEY = _secret_key()
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL", f"sqlite:///{INSTANCE / 'tenderbox.db'}")
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    STORAGE_DIR = Path(os.environ.get("STORAGE_DIR", INSTANCE / "storage"))
    OUTBOX_DIR = Path(os.environ.get("OUTBOX_DIR", INSTANCE / "outbox"))
    MAIL_FROM = os.environ.get("MAIL_FROM", "Tenderbox <no-reply@tenderbox.example>")
    # Base of links in emails. Unset: the address the server itself listens on (app.notifications.public_url),
    # and outside a request (a separate worker, the CLI) DEFAULT_PUBLIC_URL. Never the request's Host header.
    PUBLIC_URL = os.environ.get("PUBLIC_URL", "")
    DEFAULT_PUBLIC_URL = "http://127.0.0.1:5000"
    # Open data (OCDS, contracts/open_data.py): the publisher's name, its registered OCID prefix (ask the Open
    # Contracting Partnership for one; the default marks the data as unregistered) and the data's licence URL.
    OCDS_PUBLISHER = os.environ.get("OCDS_PUBLISHER", "PPP Procurement Office")
    OCDS_OCID_PREFIX = os.environ.get("OCDS_OCID_PREFIX", "ocds-tbx000")
    OCDS_LICENSE = os.environ.get("OCDS_LICENSE", "https://creativecommons.org/licenses/by/4.0/")

    # Crash and outage recovery (issue 7). A render claims its document for RENDER_LEASE_SECONDS (longer than the
    # task's hard time limit): a crashed worker's render is taken over once the lease expires. A failed render is
    # retried RENDER_MAX_ATTEMPTS times in all, after RENDER_RETRY_SECONDS, doubling. Outbox rows not done are
    # published again by the relay (every OUTBOX_RELAY_SECONDS) OUTBOX_GRACE_SECONDS after they were written,
    # then with doubling back-off up to OUTBOX_BACKOFF_MAX_SECONDS, at most OUTBOX_MAX_ATTEMPTS times.
    RENDER_LEASE_SECONDS = _RENDER_LEASE_SECONDS
    RENDER_MAX_ATTEMPTS = int(os.environ.get("RENDER_MAX_ATTEMPTS", "5"))
    RENDER_RETRY_SECONDS = float(os.environ.get("RENDER_RETRY_SECONDS", "30"))
    OUTBOX_RELAY_SECONDS = float(os.environ.get("OUTBOX_RELAY_SECONDS", "10"))
    OUTBOX_GRACE_SECONDS = float(os.environ.get("OUTBOX_GRACE_SECONDS", "30"))
    OUTBOX_BACKOFF_MAX_SECONDS = float(os.environ.get("OUTBOX_BACKOFF_MAX_SECONDS", "900"))
    OUTBOX_MAX_ATTEMPTS = int(os.environ.get("OUTBOX_MAX_ATTEMPTS", "12"))
    # Temporary files of uploads and renders killed mid-way are removed after ORPHAN_MAX_AGE_SECONDS (beat task).
    ORPHAN_MAX_AGE_SECONDS = float(os.environ.get("ORPHAN_MAX_AGE_SECONDS", "3600"))
    CLEAN_ORPHANS_SECONDS = float(os.environ.get("CLEAN_ORPHANS_SECONDS", "900"))
    # Below this much free space on STORAGE_DIR, administrators see the condition on their home page.
    STORAGE_LOW_FREE_BYTES = int(os.environ.get("STORAGE_LOW_FREE_MB", "500")) * 1024 * 1024

    # Celery: no broker configured means tasks run eagerly in the request (embedded default).
    CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
    CELERY = {
        "broker_url": CELERY_BROKER_URL or "memory://localhost/",
        "task_always_eager": not CELERY_BROKER_URL,
        "task_eager_propagates": False,
        "task_ignore_result": True,
        "task_serializer": "json",
        "accept_content": ["json"],
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_time_limit": 120,
        "task_soft_time_limit": 100,
        # The broker redelivers an unacknowledged message (its worker died) after the visibility timeout: set just
        # past the render lease, so the redelivered render finds the lease expired and takes it over.
        "broker_transport_options": {"visibility_timeout": _RENDER_LEASE_SECONDS + 60, "socket_connect_timeout": 2},
        "broker_connection_timeout": 2,
        # Publishing after a commit must not hang a request while the broker is down (the outbox keeps the task).
        "task_publish_retry_policy": {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2},
        "broker_connection_retry_on_startup": True,
        # beat_schedule: built by the app factory from the periodic tasks the core and the areas register.
    }
    # The areas the app factory registers (each area's init_app), in dependency order.
    AREAS = ("eoi", "scoring", "contracts")

    # Signed checkpoints of the audit chain's head, outside the database (app/audit/checkpoints.py).
    AUDIT_SIGNING_KEY_FILE = Path(os.environ.get("AUDIT_SIGNING_KEY_FILE", INSTANCE / "audit-signing.key"))
    AUDIT_VERIFY_KEY_FILE = os.environ.get("AUDIT_VERIFY_KEY_FILE", "")  # default: the signing key's ".pub"
    AUDIT_CHECKPOINT_FILE = Path(os.environ.get("AUDIT_CHECKPOINT_FILE", INSTANCE / "audit-checkpoints.log"))

    # Issued letters and contracts are signed (PAdES, pyHanko) with the organisation's key and certificate (PEM).
    # Embedded default: a self-signed pair generated on first use; production configures its own.
    DOCUMENT_SIGNING_KEY_FILE = Path(os.environ.get("DOCUMENT_SIGNING_KEY_FILE", INSTANCE / "document-signing.key"))
    DOCUMENT_SIGNING_CERT_FILE = Path(os.environ.get("DOCUMENT_SIGNING_CERT_FILE", INSTANCE / "document-signing.crt"))
    # The programme the contracts are measured against (DESIGN.md): approved non-recurrent funding, and the
    # benefits case's cost avoidance against the old operator's subscription and transaction fees (HK$).
    PROGRAMME_FUNDING = Decimal(os.environ.get("PROGRAMME_FUNDING", "170800000"))
    PROGRAMME_COST_AVOIDANCE = Decimal(os.environ.get("PROGRAMME_COST_AVOIDANCE", "72000000"))
    # Days an approved award stands still (unsuccessful vendors may challenge it) before it can become final.
    STANDSTILL_DAYS = int(os.environ.get("STANDSTILL_DAYS", "10"))

    PROXY_COUNT = int(os.environ.get("PROXY_COUNT", "0"))
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    # A rate-limit store that is down must not stop sign-in: count in memory until it is back.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_SWALLOW_ERRORS = True
    RATELIMIT_STORAGE_OPTIONS = {"socket_connect_timeout": 1, "socket_timeout": 1}  # used by redis:// stores
    # Failed sign-ins allowed, per account from browsers it never signed in from, per client address, and per
    # device cookie (a browser the account signed in from before: others' guessing never locks it out).
    LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "10 per minute")
    LOGIN_IP_RATE_LIMIT = os.environ.get("LOGIN_IP_RATE_LIMIT", "30 per minute")
    LOGIN_DEVICE_RATE_LIMIT = os.environ.get("LOGIN_DEVICE_RATE_LIMIT", "10 per minute")
    LOGIN_DEVICE_COOKIE_LIFETIME = timedelta(days=int(os.environ.get("LOGIN_DEVICE_COOKIE_DAYS", "180")))

    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = "Asia/Hong_Kong"
    BABEL_TRANSLATION_DIRECTORIES = str(ROOT / "app" / "translations")
    LANGUAGES = {"en": "English", "zh_Hant": "繁體中文"}

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _flag("SECURE_COOKIES", False)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    REMEMBER_COOKIE_DURATION = timedelta(days=7)
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    STAFF_IDLE_TIMEOUT = timedelta(minutes=int(os.environ.get("STAFF_IDLE_MINUTES", "30")))
    # A vendor drafting for hours must not lose a form to an expired token: tie it to the session.
    WTF_CSRF_TIME_LIMIT = None

    # The opening of a tender box (invariant 3): how many officers are named at publication (any two of them
    # open, so one absence does not block), and how many wrong opening passwords an officer may type per window.
    OPENING_OFFICERS_MIN = int(os.environ.get("OPENING_OFFICERS_MIN", "3"))
    OPENING_PASSWORD_MAX_FAILURES = int(os.environ.get("OPENING_PASSWORD_MAX_FAILURES", "5"))
    OPENING_PASSWORD_WINDOW = timedelta(minutes=int(os.environ.get("OPENING_PASSWORD_WINDOW_MINUTES", "15")))
    # The sealed box's encryption (issue 9, docs/sealing.md): the server's own key wraps drafts' data keys until
    # closing and opened proposals' keys after opening (keep it out of the database's backups); each officer's
    # opening passphrase derives its key with Argon2id at these costs (RFC 9106's second recommendation).
    SEALING_KEY_FILE = Path(os.environ.get("SEALING_KEY_FILE", INSTANCE / "sealing.key"))
    OPENING_KDF = {"t": int(os.environ.get("OPENING_KDF_TIME_COST", "3")),
                   "m": int(os.environ.get("OPENING_KDF_MEMORY_KIB", str(64 * 1024))), "p": 1}
    OPENING_PASSPHRASE_MIN_LENGTH = 14
    # Floors under each exercise's late-addendum rule: an addendum issued within the window before closing moves
    # closing at least the extension later, so an on-time proposal can always be re-confirmed.
    ADDENDUM_LATE_WINDOW_MIN_HOURS = int(os.environ.get("ADDENDUM_LATE_WINDOW_MIN_HOURS", "72"))
    ADDENDUM_MIN_EXTENSION_MIN_HOURS = int(os.environ.get("ADDENDUM_MIN_EXTENSION_MIN_HOURS", "48"))

    TOKEN_MAX_AGE = timedelta(hours=24)
    # A registration whose address nobody verified is removed after this (it never held its BR number).
    REGISTRATION_EXPIRY = timedelta(hours=int(os.environ.get("REGISTRATION_EXPIRY_HOURS", "48")))
    MAX_CONTENT_LENGTH = 60 * 1024 * 1024
    PASSWORD_MIN_LENGTH = 12
    # bench/deadline_rush.py only: registers app/bench_routes.py (a bare upload endpoint). Never on in production.
    BENCH_ROUTES = _flag("BENCH_ROUTES", False)


class TestConfig(Config):
    TESTING = True
    RATELIMIT_ENABLED = True
    LOGIN_RATE_LIMIT = "5 per minute"
    LOGIN_IP_RATE_LIMIT = "60 per minute"
    LOGIN_DEVICE_RATE_LIMIT = "5 per minute"
    ARGON2_FAST = True
    OPENING_KDF = {"t": 1, "m": 256, "p": 1}  # a test derives many opening keys; production costs: Config
    BENCH_ROUTES = False  # whatever the environment says: the route matrix tests see the real routes only
    WTF_CSRF_ENABLED = False  # tests/app/test_security.py turns it back on and checks every form


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"


def config_from_environment() -> type[Config]:
    """What wsgi.py serves: the production configuration (Secure cookies, HSTS) unless TENDERBOX_DEV=1 says this
    is a development server on plain http (scripts/dev.sh sets it)."""
    return Config if _flag("TENDERBOX_DEV", False) else ProductionConfig
