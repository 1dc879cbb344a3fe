"""Real-browser fixtures: the real app under gunicorn, a real SMTP server, and Chromium.

One server (with its own SQLite database, content and demo campaigns) and one browser
serve the whole session; every test gets a fresh browser context, so cookies and
storage never leak from one test to the next. Tests that change data should make
their own (a unique email, a new campaign through ``live_server.flask(...)``) rather
than rely on what another test left behind.

Chromium is Debian's (``/usr/bin/chromium``): when it is missing, the tests skip with
the reason, or fail when ``COALITION_REQUIRE_SERVICES=1`` (CI).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from coalition import PROJECT_ROOT
from tests.browser.pages import ARTIFACTS, DESKTOP, PHONE
from tests.conftest import _MailCollector, free_port, service_missing

CHROMIUM = os.environ.get("COALITION_TEST_CHROMIUM", "/usr/bin/chromium")
#: Keep Chromium off the network: the tests need nothing but the local server.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SERVER_START_SECONDS = 30


@dataclass
class LiveServer:
    """The running site: its address, the mail it sent, and its environment."""

    url: str
    env: dict
    mailbox: _MailCollector
    log_path: Path
    process: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def mail(self) -> list:
        """Every message the site has sent so far (parsed ``email.message.EmailMessage``)."""
        return self.mailbox.messages

    def flask(self, *args: str, input: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
        """Run ``flask --app app <args>`` against the server's database; returns the result.

        ``input`` is fed to the command (``.flask("shell", input=code)`` runs Python lines).
        """
        result = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "app", *args],
            env=self.env,
            cwd=PROJECT_ROOT,
            input=input,
            capture_output=True,
            text=True,
            timeout=60,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"flask {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
            )
        return result

    def wait_for_mail(self, to: str, count: int = 1, seconds: float = 10.0) -> list:
        """Wait until ``count`` messages to ``to`` have arrived (the site sends in the background)."""
        deadline = time.monotonic() + seconds
        while True:
            found = [m for m in self.mail if to.lower() in str(m["To"]).lower()]
            if len(found) >= count or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert len(found) >= count, f"expected {count} message(s) to {to}, got {len(found)}"
        return found

    def log_tail(self, lines: int = 40) -> str:
        """The end of gunicorn's output, for failure messages."""
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def live_server_environment(port: int, workdir: Path, mail_url: str) -> dict:
    """The environment the site runs with in the browser tests.

    The caller's own ``COALITION_*`` settings are left out, so the server is the same everywhere.
    """
    inherited = {name: value for name, value in os.environ.items() if not name.startswith("COALITION_")}
    return dict(
        inherited,
        COALITION_DATABASE_URL="sqlite:///" + str(workdir / "site.sqlite"),
        COALITION_SECRET_KEY="browser-tests-secret-key-" + "0123456789" * 3,
        COALITION_SITE_URL=f"http://127.0.0.1:{port}",
        COALITION_MAIL_URL=mail_url,
        COALITION_OUTBOX_DIR=str(workdir / "outbox"),
        COALITION_FORM_MIN_FILL_SECONDS="0",
        COALITION_LOG_FORMAT="text",
    )


def _wait_until_up(server: LiveServer) -> None:
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            break
        try:
            with urllib.request.urlopen(server.url + "/healthz", timeout=1) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, OSError):
            time.sleep(0.1)
    raise AssertionError(f"gunicorn did not answer on {server.url}/healthz:\n{server.log_tail()}")


@pytest.fixture(scope="session")
def live_mailbox() -> Iterator[_MailCollector]:
    """A real SMTP server on loopback for the whole session; ``.messages`` is what it received."""
    from aiosmtpd.controller import Controller

    handler = _MailCollector()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    handler.url = f"smtp://127.0.0.1:{port}"
    try:
        yield handler
    finally:
        controller.stop()


@contextmanager
def running_live_server(workdir: Path, mailbox: _MailCollector, workers: int = 2, **settings: str) -> Iterator[LiveServer]:
    """Start the site under gunicorn with a migrated database, the content and the demo campaigns.

    ``settings`` are more environment variables for it (``COALITION_SIGN_RATE_LIMIT="2 per minute"``);
    the server stops when the ``with`` block ends.
    """
    port = free_port()
    server = LiveServer(
        url=f"http://127.0.0.1:{port}",
        env=dict(live_server_environment(port, workdir, mailbox.url), **settings),
        mailbox=mailbox,
        log_path=workdir / "gunicorn.log",
    )
    server.flask("db", "upgrade")
    server.flask("load-content")
    server.flask("seed-demo")
    with server.log_path.open("wb") as log:
        server.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--bind", f"127.0.0.1:{port}", "app:app"],
            env=server.env,
            cwd=PROJECT_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_until_up(server)
        yield server
    finally:
        server.process.terminate()
        try:
            server.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory, live_mailbox) -> Iterator[LiveServer]:
    """The real site under gunicorn, with a migrated database, the content and the demo campaigns."""
    # Every test comes from 127.0.0.1: generous limits, so the shared server never throttles
    # a journey (the limits themselves are tested on a server of their own).
    generous = "600 per minute"
    with running_live_server(
        tmp_path_factory.mktemp("live-server"),
        live_mailbox,
        COALITION_SIGN_RATE_LIMIT=generous,
        COALITION_PLEDGE_RATE_LIMIT=generous,
        COALITION_ENDORSE_RATE_LIMIT=generous,
        COALITION_CONFIRM_RATE_LIMIT=generous,
        COALITION_CONFIRMATION_EMAIL_RATE_LIMIT=generous,
    ) as server:
        yield server


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, launched once for the session (skips, or fails in CI, without it)."""
    if not os.path.exists(CHROMIUM):
        service_missing(f"Chromium not available: {CHROMIUM} does not exist (apt-get install chromium)")
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        try:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        except PlaywrightError as exc:
            first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
            service_missing(f"Chromium not available: {CHROMIUM} failed to launch: {first_line}")
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def new_page(browser, live_server, request) -> Iterator[Callable]:
    """Factory: a page in a fresh browser context on the live server.

    Keywords go to ``browser.new_context`` (``viewport``, ``java_script_enabled``,
    ``is_mobile``, ``locale`` ...); relative addresses in ``page.goto`` are on the server.
    Each page keeps the errors its console reported in ``page.console_errors``.
    """
    contexts = []

    def build(**options):
        settings = {"viewport": DESKTOP, "base_url": live_server.url}
        settings.update(options)
        context = browser.new_context(**settings)
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.console_errors = []
        page.on("console", lambda message: message.type == "error" and page.console_errors.append(message.text))
        page.on("pageerror", lambda error: page.console_errors.append(str(error)))
        return page

    yield build
    failed = getattr(request.node, "failed_call", False)
    for number, context in enumerate(contexts):
        if failed:
            for page in context.pages:
                _save_failure_screenshot(page, f"{request.node.name}-{number}")
        context.close()


def _save_failure_screenshot(page, name: str) -> None:
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)
    target = ARTIFACTS / "failures" / f"{safe}.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        page.screenshot(path=str(target), full_page=True)
    except Exception:  # a page that crashed cannot be photographed; the failure itself says why
        pass


@pytest.fixture
def page(new_page):
    """A desktop page (1280x800) in its own context."""
    return new_page()


@pytest.fixture
def phone_page(new_page):
    """A phone page (360x740, mobile, touch) in its own context."""
    return new_page(viewport=PHONE, is_mobile=True, has_touch=True)


@pytest.fixture
def no_js_page(new_page):
    """A desktop page with JavaScript switched off."""
    return new_page(java_script_enabled=False)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Remember a failed test body, so its pages are photographed before their contexts close."""
    report = yield
    if report.when == "call" and report.failed:
        item.failed_call = True
    return report
