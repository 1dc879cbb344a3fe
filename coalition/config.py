"""Configuration: defaults here, then ``instance/config.py``, then ``COALITION_*`` variables."""

from __future__ import annotations

import ipaddress
import os
from datetime import timedelta

from flask import Flask

#: The smallest secret key production accepts.
MIN_SECRET_KEY_LENGTH = 32


class ConfigurationError(RuntimeError):
    """Raised when the app is configured in a way it must refuse to run with."""


def default_config(app: Flask) -> dict:
    """Return the defaults every deployment starts from."""
    return {
        "ENV": "development",
        # Development only: production refuses to start with this value.
        "SECRET_KEY": "development-only-secret-key",
        "DATABASE_URL": "sqlite:///" + os.path.join(app.instance_path, "coalition.sqlite"),
        "RATELIMIT_STORAGE_URI": "memory://",
        "RATELIMIT_ENABLED": True,
        # If Redis (or whatever holds the counters) goes away, keep serving: count in
        # each process's memory until it is back. Flask-Limiter logs the switch once.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_SWALLOW_ERRORS": True,
        "RATELIMIT_HEADERS_ENABLED": True,
        "RATELIMIT_KEY_PREFIX": "coalition",
        # Fail fast when the storage is unreachable, so a request never hangs on it.
        "RATELIMIT_STORAGE_OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        "MAIL_URL": "",
        "MAIL_FROM": "Coalition for Women Prisoners <no-reply@localhost>",
        "OUTBOX_DIR": os.path.join(app.instance_path, "outbox"),
        # Staff pages show times, and the dashboard counts days, in this zone (exports stay in UTC).
        "TIME_ZONE": "America/New_York",
        # Share images staff upload (re-encoded, named by their content's hash).
        "SHARE_IMAGE_DIR": os.path.join(app.instance_path, "share-images"),
        # How long a drawn share card (title, name, count) is kept before it is drawn again.
        "SHARE_CARD_SECONDS": 300,
        "MAIL_TIMEOUT_SECONDS": 10,
        # Send mail in the request's own thread (tests); otherwise a background thread sends it.
        "MAIL_SEND_INLINE": False,
        # How long the background sender waits, once woken, for more mail to send together.
        "MAIL_SENDER_GATHER_SECONDS": 0.2,
        "PROXY_COUNT": 0,
        # Opening or using confirmation links, per client address.
        "CONFIRM_RATE_LIMIT": "60 per hour",
        # Pledge and endorsement submissions, per client address (a shared address, such as
        # a library's or a shelter's, may carry many people).
        "PLEDGE_RATE_LIMIT": "20 per hour;100 per day",
        "ENDORSE_RATE_LIMIT": "10 per hour;30 per day",
        # Sign-form submissions, per client address: a family on one connection never
        # reaches these; a script does. Raise them for a signing event on one network.
        "SIGN_RATE_LIMIT": "10 per minute;50 per hour;200 per day",
        # Confirmation emails per mailbox (normalised email), whatever the campaign.
        "CONFIRMATION_EMAIL_RATE_LIMIT": "6 per hour;20 per day",
        # Confirmation emails one signature may cause (the first and re-sends), and
        # the least time between two of them.
        "MAX_CONFIRMATION_SENDS": 3,
        "CONFIRMATION_RESEND_MIN_SECONDS": 60,
        # How long browsers and caches may keep the public JSON.
        "API_CACHE_SECONDS": 60,
        # How long shared caches (nginx) may keep a public page (s-maxage); browsers
        # always revalidate. A campaign page is never kept past its closing.
        "PUBLIC_CACHE_SECONDS": 30,
        # Origins besides SITE_URL's whose browsers may send forms (a second domain the
        # site answers on), as a list or separated by commas or spaces.
        "TRUSTED_ORIGINS": [],
        # Public forms carry no CSRF token (cross-origin requests are refused by their
        # fetch metadata); staff forms are checked by the staff blueprint.
        "WTF_CSRF_CHECK_DEFAULT": False,
        # Forms sent back faster than this are treated as automated (softly).
        "FORM_MIN_FILL_SECONDS": 3,
        "SITE_URL": "http://127.0.0.1:8000",
        "SQLITE_BUSY_TIMEOUT_MS": 15000,
        "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
        "WTF_CSRF_TIME_LIMIT": 4 * 3600,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": False,
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=8),
        # Unconfirmed signatures and pledges are deleted after this many days.
        "PENDING_RETENTION_DAYS": 14,
        # Personal data is anonymised this many months after a campaign closes.
        "PERSONAL_DATA_RETENTION_MONTHS": 12,
        # A signer who consented to updates keeps their mailbox (only the email, not the
        # name or address) this many months after the campaign closes, unless they
        # unsubscribe first: long enough for "we delivered" and "we won".
        "UPDATES_RETENTION_MONTHS": 24,
        # Update emails sent per minute, in total across every worker and machine (the
        # SMTP provider's limit); confirmations and notices are not held back by it.
        "BULK_MAIL_PER_MINUTE": 600,
        # An address for List-Unsubscribe's mailto: (empty: the https link only).
        "UNSUBSCRIBE_MAILTO": "",
        "BABEL_DEFAULT_LOCALE": "en",
        "LANGUAGES": ["en", "es"],
        "CONTENT_FILE": os.path.join(app.root_path, "content", "coalition.toml"),
        # hide_parameters: error messages (and so the logs) never carry the values of a
        # statement, which may be a supporter's name or email.
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True, "hide_parameters": True},
        # "json" (one JSON object per line) or "text"; production defaults to json.
        "LOG_FORMAT": "",
        "LOG_LEVEL": "INFO",
        # Staff sessions end after this many minutes without a request.
        "STAFF_IDLE_MINUTES": 30,
        # Failed staff logins allowed: per client address; per account (email tried) and
        # address, tightly; per account from anywhere, loosely (so that someone guessing
        # from elsewhere cannot lock the account's owner out).
        "STAFF_LOGIN_RATE_LIMIT_ADDRESS": "20 per 15 minutes",
        "STAFF_LOGIN_RATE_LIMIT_ACCOUNT_ADDRESS": "5 per 15 minutes",
        "STAFF_LOGIN_RATE_LIMIT_ACCOUNT": "100 per hour;300 per day",
        # Password-reset requests (and uses of a reset link), per client address and per account.
        "STAFF_PASSWORD_RESET_RATE_LIMIT_ADDRESS": "10 per hour",
        "STAFF_PASSWORD_RESET_RATE_LIMIT_ACCOUNT": "3 per hour",
        # argon2id cost of staff password hashes (OWASP-level defaults).
        "ARGON2_TIME_COST": 3,
        "ARGON2_MEMORY_COST_KIB": 65536,
        "ARGON2_PARALLELISM": 4,
    }


def load_config(app: Flask, test_config: dict | None) -> None:
    """Fill ``app.config`` from defaults, the instance file and the environment."""
    app.config.from_mapping(default_config(app))
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_prefixed_env("COALITION")
    else:
        app.config.from_mapping(test_config)
    app.config["SQLALCHEMY_DATABASE_URI"] = app.config["DATABASE_URL"]
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(
        app.config["DATABASE_URL"], app.config["SQLALCHEMY_ENGINE_OPTIONS"]
    )
    if app.config["ENV"] not in ("development", "production"):
        raise ConfigurationError(
            f"COALITION_ENV must be 'development' or 'production', not {app.config['ENV']!r}."
        )
    if app.config["ENV"] == "production":
        check_production(app)


def engine_options(url: str, options: dict) -> dict:
    """The engine options for ``url``: SQLite has no server connection that could have
    dropped, so its connections are not pinged (a query) each time one is taken."""
    if url.startswith("sqlite"):
        return {**options, "pool_pre_ping": False}
    return dict(options)


def check_production(app: Flask) -> None:
    """Refuse insecure production settings, in one clear line."""
    key = app.config.get("SECRET_KEY") or ""
    if len(key) < MIN_SECRET_KEY_LENGTH or key == "development-only-secret-key":
        raise ConfigurationError(
            "Refusing to start in production: set COALITION_SECRET_KEY to a random value "
            f"of at least {MIN_SECRET_KEY_LENGTH} characters "
            "(for example: python -c 'import secrets; print(secrets.token_urlsafe(48))')."
        )
    app.config["SESSION_COOKIE_SECURE"] = True


def _is_private_bind(bind: str) -> bool:
    """Whether a gunicorn bind address is reachable from this machine only (loopback or a socket)."""
    if bind.startswith(("unix:", "fd://")):
        return True
    host = bind.rsplit(":", 1)[0] if bind.count(":") == 1 or bind.startswith("[") else bind
    host = host.strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_server(config: dict, workers: int, binds: list[str]) -> None:
    """Refuse, in one clear line, a production server whose rate limits each worker process
    would count alone, or that clients could reach without the proxy in front of it."""
    if config.get("ENV") != "production":
        return
    storage = str(config.get("RATELIMIT_STORAGE_URI") or "memory://").strip()
    if workers > 1 and storage in ("memory://", "memory:"):
        raise ConfigurationError(
            f"Refusing to start in production: with memory:// each of the {workers} worker processes "
            "counts rate limits alone; set COALITION_RATELIMIT_STORAGE_URI=redis://host:6379/0, "
            "or run one worker process with threads (COALITION_WORKERS=1 gunicorn --threads 8 app:app)."
        )
    exposed = [bind for bind in binds if not _is_private_bind(bind)]
    if exposed:
        raise ConfigurationError(
            f"Refusing to start in production: gunicorn would listen on {', '.join(exposed)}; it is "
            "never exposed directly: set COALITION_BIND to 127.0.0.1:8000 or unix:/run/coalition.sock "
            "and put nginx (deploy/nginx.conf) in front."
        )
