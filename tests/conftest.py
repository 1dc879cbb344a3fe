"""Fixtures: a fresh app and database per test, factories, and service checks.

``COALITION_TEST_DATABASE_URL`` switches the whole suite to PostgreSQL (each test gets
its own schema); by default each test gets a fresh SQLite file.
``COALITION_REQUIRE_SERVICES=1`` (set by CI) turns every skip for a missing service
(PostgreSQL, Redis, Chromium) into a failure.
"""

from __future__ import annotations

import os
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import has_app_context
from flask.testing import FlaskClient
from hypothesis import settings as hypothesis_settings

from coalition import create_app
from coalition.extensions import db as _db
from coalition.models.types import utcnow
from coalition.services import campaigns as campaign_service
from coalition.services import content as content_service

# In CI the property-based tests use a fixed seed, so a run passes or fails the same way
# every time; on a developer's machine they explore new examples on each run.
hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")

TEST_DATABASE_URL = os.environ.get("COALITION_TEST_DATABASE_URL", "")
REQUIRE_SERVICES = os.environ.get("COALITION_REQUIRE_SERVICES", "") not in ("", "0")
POSTGRES_URL = os.environ.get("COALITION_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
#: Each parallel test process (pytest-xdist's gw0, gw1, ...) has a Redis database of its own:
#: 15, 14, ... (a test may empty its database).
_WORKER = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
REDIS_URL = os.environ.get("COALITION_TEST_REDIS_URL", f"redis://127.0.0.1:6379/{15 - _WORKER}")


def service_missing(reason: str) -> None:
    """Skip the test for a missing service, or fail it when services are required (CI)."""
    if REQUIRE_SERVICES:
        pytest.fail(f"required service unavailable: {reason}", pytrace=False)
    pytest.skip(reason)


def _postgres_reachable(url: str) -> str | None:
    try:
        engine = sa.create_engine(url)
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # any failure to connect means "not here"
        return f"PostgreSQL not reachable at {url.split('@')[-1]}: {exc.__class__.__name__}"
    return None


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """A PostgreSQL URL that answers, or skip (fail in CI)."""
    problem = _postgres_reachable(POSTGRES_URL)
    if problem:
        service_missing(problem)
    return POSTGRES_URL


@pytest.fixture(scope="session")
def redis_url() -> str:
    """A Redis URL that answers, or skip (fail in CI)."""
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except Exception as exc:
        service_missing(f"Redis not reachable at {REDIS_URL}: {exc.__class__.__name__}")
    return REDIS_URL


@pytest.fixture
def postgres_target(postgres_url):
    """An empty PostgreSQL schema of its own (whatever database the suite runs on)."""
    schema = "own_" + uuid.uuid4().hex[:12]
    admin = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield _with_search_path(postgres_url, schema)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _with_search_path(url: str, schema: str) -> str:
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options=-csearch_path%3D{schema}"


@pytest.fixture
def database_url(tmp_path):
    """A fresh, empty database for one test: a SQLite file, or a PostgreSQL schema."""
    if not TEST_DATABASE_URL.startswith("postgresql"):
        yield "sqlite:///" + str(tmp_path / "test.sqlite")
        return
    problem = _postgres_reachable(TEST_DATABASE_URL)
    if problem:
        service_missing(problem)
    schema = "t_" + uuid.uuid4().hex[:16]
    admin = sa.create_engine(TEST_DATABASE_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield _with_search_path(TEST_DATABASE_URL, schema)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def make_config(tmp_path, database_url):
    """Build a test configuration; tests override single settings by keyword."""

    def build(**overrides) -> dict:
        config = {
            "TESTING": True,
            "ENV": "development",
            "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
            "DATABASE_URL": database_url,
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            "RATELIMIT_STORAGE_URI": "memory://",
            "MAIL_URL": "",
            "MAIL_SEND_INLINE": True,
            "FORM_MIN_FILL_SECONDS": 0,
            "OUTBOX_DIR": str(tmp_path / "outbox"),
            "SITE_URL": "http://localhost",
            "SERVER_NAME": None,
        }
        config.update(overrides)
        return config

    return build


class RequestContextClient(FlaskClient):
    """A test client whose every request runs in an application context of its own.

    The fixtures keep an app context pushed for the test's own database work; without
    this, requests would join it and share ``g`` (Flask-Login's cached user, Flask-WTF's
    CSRF token) across clients, which no browser ever does.
    """

    def open(self, *args, **kwargs):
        # The test's own session (of the outer context), so that afterwards it sees what
        # the request committed, as a next request would.
        outer = _db.session() if has_app_context() else None
        if outer is not None and not (outer.new or outer.dirty or outer.deleted):
            # Nothing of the test's own is pending: end its read transaction, as no other
            # visitor's request would find one open beside it (on SQLite an open reader
            # holds back a checkpoint).
            outer.rollback()
        with self.application.app_context():
            response = super().open(*args, **kwargs)
        if outer is not None and not (outer.new or outer.dirty or outer.deleted):
            outer.rollback()
        return response


@pytest.fixture
def app_factory(make_config):
    """Create apps with a fresh schema; every app made is torn down after the test."""
    made = []

    def build(**overrides):
        app = create_app(make_config(**overrides))
        app.test_client_class = RequestContextClient
        with app.app_context():
            _db.create_all()
        made.append(app)
        return app

    yield build
    for app in made:
        with app.app_context():
            _db.session.remove()
            _db.engine.dispose()


@pytest.fixture
def app(app_factory, request):
    """A fresh app with an empty database, inside an app context.

    A test that also asks for ``smtp_server`` gets an app that mails to it.
    """
    overrides = {}
    if "smtp_server" in request.fixturenames:
        overrides["MAIL_URL"] = request.getfixturevalue("smtp_server").url
    app = app_factory(**overrides)
    with app.app_context():
        yield app


@pytest.fixture
def client(app):
    """A test client of the app."""
    return app.test_client()


@pytest.fixture
def runner(app):
    """A CLI runner of the app."""
    return app.test_cli_runner()


@pytest.fixture
def content(app):
    """The coalition's content, loaded from its real file."""
    content_service.load_content(app.config["CONTENT_FILE"])
    _db.session.commit()
    return content_service


@pytest.fixture
def make_campaign(app, content):
    """Factory: a campaign, open by default, with the content loaded."""
    counter = {"n": 0}

    def build(**overrides):
        counter["n"] += 1
        now = utcnow()
        values = {
            "slug": f"campaign-{counter['n']}",
            "title": f"Campaign {counter['n']}",
            "summary": "A campaign for the tests.",
            "body": "The petition's text.",
            "target": 100,
            "status": "open",
            "goal_slugs": ["alternatives-to-incarceration"],
            "opens_at": now - timedelta(days=1),
            "closes_at": now + timedelta(days=30),
        }
        values.update(overrides)
        campaign = campaign_service.create_campaign(**values)
        _db.session.commit()
        return campaign

    return build


class _MailCollector:
    """An aiosmtpd handler that keeps every message it receives, and the client
    connection (address and port) each came over; it refuses recipients whose address
    starts with ``refused``, as a real server refuses an unknown mailbox."""

    def __init__(self) -> None:
        self.messages: list = []
        self.peers: list = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("refused"):
            return "550 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        import email
        from email import policy

        message = email.message_from_bytes(envelope.original_content, policy=policy.default)
        self.messages.append(message)
        self.peers.append(session.peer)
        return "250 Message accepted for delivery"


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server():
    """A real SMTP server on loopback; ``.messages`` holds what it received, ``.url`` its address."""
    from aiosmtpd.controller import Controller

    handler = _MailCollector()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    handler.url = f"smtp://127.0.0.1:{port}"
    handler.port = port
    try:
        yield handler
    finally:
        controller.stop()


@pytest.fixture
def sender_run_by_hand(monkeypatch):
    """For tests that run the mail sender themselves: the hook after a commit that queued
    mail wakes no sender (it would send inline first). Returns the real ``wake_sender``,
    for a test that hands over to it."""
    from coalition import mail

    real = mail.wake_sender
    monkeypatch.setattr(mail, "wake_sender", lambda: None)
    return real


@pytest.fixture
def mail_app(app, smtp_server):
    """The app, sending its mail to the loopback SMTP server."""
    return app


#: The password ``make_staff`` gives unless told otherwise.
STAFF_PASSWORD = "correct horse battery"


@pytest.fixture
def make_staff(app):
    """Factory: a staff account, ``make_staff(role="admin", password=..., email=...)``.

    Hashing is made cheap for the tests (the production cost is the config default).
    """
    from coalition.services import staff as staff_service

    app.config.update(ARGON2_TIME_COST=1, ARGON2_MEMORY_COST_KIB=8, ARGON2_PARALLELISM=1)
    counter = {"n": 0}

    def build(role: str = "organizer", password: str = STAFF_PASSWORD, email: str | None = None, active: bool = True):
        counter["n"] += 1
        user, _ = staff_service.create_staff(email or f"staff{counter['n']}@example.org", role, password)
        user.active = active
        _db.session.commit()
        return user

    return build


def login(client, staff, password: str = STAFF_PASSWORD, next: str | None = None):
    """Log ``staff`` in through the real login form; returns the response."""
    path = "/staff/login" + (f"?next={next}" if next else "")
    return client.post(path, data={"email": staff.email, "password": password})


@pytest.fixture
def staff_login():
    """The ``login(client, staff)`` helper, for tests that prefer a fixture to an import."""
    return login


@pytest.fixture
def make_signature_row(app):
    """Factory: a signature stored directly (confirmed by default, and then counted).

    ``make_signature_row(campaign, full_name=..., email=..., zip_code=..., status=...)``;
    the county comes from the ZIP code as it does when signing.
    """
    from coalition.models import Signature
    from coalition.services import counting
    from coalition.services.addresses import lookup_zip, normalize_email

    counter = {"n": 0}

    def build(campaign, **values):
        counter["n"] += 1
        now = utcnow()
        values.setdefault("full_name", f"Signer {counter['n']}")
        values.setdefault("email", f"signer{counter['n']}@example.org")
        values.setdefault("status", "confirmed")
        values.setdefault("zip_code", "11216")
        place = lookup_zip(values["zip_code"]) if values["zip_code"] else None
        if place:
            values.setdefault("city", place.city)
            values.setdefault("county", place.county)
            values.setdefault("state", place.state)
        if values["email"]:
            values.setdefault("email_normalized", normalize_email(values["email"]))
        if values["status"] == "confirmed":
            values.setdefault("confirmed_at", now)
        if values.get("wants_updates"):
            values.setdefault("updates_consented_at", now)
        signature = Signature(campaign_id=campaign.id, **values)
        _db.session.add(signature)
        if values["status"] == "confirmed":
            counting.add_to_signature_count(campaign.id, 1)
        _db.session.commit()
        return signature

    return build
