"""Faults: a supporter who was told "thank you" is counted, whatever happens to the server.

The real site runs under gunicorn (2 workers, SQLite file) while a small threaded load
signs a campaign. Every sign POST that got the 303 to the thank-you page is recorded;
afterwards each of those signers must be in the database exactly once, and the site
must still answer. Requests that failed with a connection error were never told
"thank you": they may or may not have been saved.
"""

from __future__ import annotations

import email
import http.client
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from email import policy
from pathlib import Path
from urllib.parse import urlencode

import pytest
from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from coalition import PROJECT_ROOT, mail
from coalition.extensions import db
from coalition.models import OutgoingMail, Pledge, Signature
from tests.conftest import _MailCollector, free_port

pytestmark = pytest.mark.slow

#: A demo campaign that `flask seed-demo` opens.
SLUG = "alternatives-not-prison"
START_SECONDS = 30
_FORM_STARTED = re.compile(r'name="form_started" type="hidden" value="([^"]+)"')


@dataclass
class Site:
    """One gunicorn master serving the site on a fixed port and database."""

    workdir: Path
    port: int
    env: dict
    process: subprocess.Popen | None = None
    log_paths: list[Path] = field(default_factory=list)

    def flask(self, *args: str) -> subprocess.CompletedProcess:
        """Run ``flask --app app <args>`` on the site's database."""
        return subprocess.run(
            [sys.executable, "-m", "flask", "--app", "app", *args],
            env=self.env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60,
        )

    def start(self, workers: int = 2) -> None:
        """Start a gunicorn master and wait until ``/healthz`` answers."""
        log_path = self.workdir / f"gunicorn-{len(self.log_paths)}.log"
        self.log_paths.append(log_path)
        with log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "--workers", str(workers),
                 "--bind", f"127.0.0.1:{self.port}", "app:app"],
                env=self.env, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"gunicorn exited:\n{self.log_tail()}"
            if self.answers():
                return
            time.sleep(0.1)
        raise AssertionError(f"gunicorn did not answer:\n{self.log_tail()}")

    def stop(self) -> None:
        """Stop gracefully (SIGTERM to the master), or kill it if it hangs."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def workers(self) -> list[int]:
        """The master's worker processes."""
        found = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            # The command name is in parentheses and may hold spaces: split after it.
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            if parent == self.process.pid:
                found.append(int(entry))
        return found

    def answers(self) -> bool:
        """Whether ``/healthz`` says ok."""
        try:
            status, _headers, body = request("GET", self.port, "/healthz", timeout=2)
        except OSError:
            return False
        return status == 200 and b'"ok"' in body

    def log_tail(self, lines: int = 30) -> str:
        """The end of the newest gunicorn log."""
        if not self.log_paths or not self.log_paths[-1].exists():
            return ""
        return "\n".join(self.log_paths[-1].read_text(errors="replace").splitlines()[-lines:])

    def rows(self, sql: str, *params) -> list[tuple]:
        """Read the site's database directly."""
        connection = sqlite3.connect(self.workdir / "site.sqlite", timeout=30)
        try:
            return connection.execute(sql, params).fetchall()
        finally:
            connection.close()


def request(method: str, port: int, path: str, body: bytes | None = None, headers: dict | None = None,
            timeout: float = 15) -> tuple[int, dict, bytes]:
    """One HTTP request on a fresh connection: (status, headers, body); raises OSError on failure."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    except http.client.HTTPException as exc:  # a worker killed mid-response
        raise ConnectionError(str(exc)) from exc
    finally:
        connection.close()


@pytest.fixture
def site(tmp_path):
    """A migrated database with content and the demo campaigns, and a (not yet started) server."""
    port = free_port()
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("COALITION_")}
    env = dict(
        inherited,
        COALITION_DATABASE_URL="sqlite:///" + str(tmp_path / "site.sqlite"),
        COALITION_SECRET_KEY="fault-tests-secret-key-" + "0123456789" * 3,
        COALITION_SITE_URL=f"http://127.0.0.1:{port}",
        COALITION_OUTBOX_DIR=str(tmp_path / "outbox"),
        COALITION_FORM_MIN_FILL_SECONDS="0",
        # The limits are not what these tests are about: the load comes from one address.
        COALITION_SIGN_RATE_LIMIT="100000 per minute",
        COALITION_LOG_FORMAT="text",
    )
    server = Site(workdir=tmp_path, port=port, env=env)
    for command in (("db", "upgrade"), ("load-content",), ("seed-demo",)):
        result = server.flask(*command)
        assert result.returncode == 0, result.stderr
    try:
        yield server
    finally:
        server.stop()


class Signer:
    """A browser-like client: it opens the sign form once (for its time stamp), then signs many times."""

    def __init__(self, port: int, slug: str = SLUG) -> None:
        self.port = port
        self.path = f"/campaigns/{slug}"
        self.fields: dict = {}

    def open_form(self) -> None:
        """GET the campaign page: the form's time stamp (no cookie, no token: public forms need none)."""
        status, headers, body = request("GET", self.port, self.path)
        assert status == 200, status
        assert "Set-Cookie" not in headers
        self.fields = {"form_started": _FORM_STARTED.search(body.decode()).group(1)}

    def sign(self, address: str) -> tuple[int, str, bytes]:
        """POST the sign form; (status, redirect target, body). Raises OSError if the server is away."""
        if not self.fields:
            self.open_form()
        data = dict(self.fields, full_name="Rosa Load", email=address, zip_code="10027", country="",
                    comment="", homepage="")
        status, headers, body = request(
            "POST", self.port, self.path, urlencode(data).encode(),
            {"Content-Type": "application/x-www-form-urlencoded", "Sec-Fetch-Site": "same-origin"},
        )
        return status, headers.get("Location", ""), body


@dataclass
class LoadResult:
    """What the load saw: who was thanked, what failed."""

    thanked: list[str] = field(default_factory=list)
    connection_errors: int = 0
    other: list[int] = field(default_factory=list)


def run_load(port: int, total: int, threads: int = 6, during=None, pause: float = 0.0,
             seconds: float = 60.0) -> LoadResult:
    """Sign until ``total`` requests have been answered (or ``seconds`` have passed), from
    ``threads`` threads, each request with a new email. A request that fails with a
    connection error does not count towards ``total``: it is retried with a new email.
    ``during()`` runs in the main thread once a quarter of the load has been answered."""
    result = LoadResult()
    lock = threading.Lock()
    numbers = iter(range(10 * total))
    run = uuid.uuid4().hex[:8]
    deadline = time.monotonic() + seconds
    in_flight = {"n": 0}

    def answered() -> int:
        return len(result.thanked) + len(result.other)

    def worker() -> None:
        signer = Signer(port)
        while time.monotonic() < deadline:
            with lock:
                if answered() + in_flight["n"] >= total:
                    if answered() >= total:
                        return
                    wait = True
                else:
                    wait = False
                    in_flight["n"] += 1
                    number = next(numbers)
            if wait:
                time.sleep(0.01)
                continue
            address = f"load-{run}-{number}@example.org"
            try:
                status, location, _body = signer.sign(address)
            except OSError:
                with lock:
                    in_flight["n"] -= 1
                    result.connection_errors += 1
                time.sleep(0.1)
                continue
            with lock:
                in_flight["n"] -= 1
                if status == 303 and location.endswith(f"/campaigns/{SLUG}/thanks"):
                    result.thanked.append(address)
                else:
                    result.other.append(status)
            if pause:
                time.sleep(pause)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    if during is not None:
        while answered() < total // 4 and any(t.is_alive() for t in pool):
            time.sleep(0.01)
        during()
    for thread in pool:
        thread.join(timeout=seconds + 30)
    return result


def assert_each_thanked_signer_saved_once(site: Site, result: LoadResult) -> None:
    """Every 303 is a row, and no email has two rows."""
    rows = site.rows("SELECT email_normalized, COUNT(*) FROM signatures GROUP BY email_normalized")
    counts = dict(rows)
    missing = [address for address in result.thanked if counts.get(address) != 1]
    assert not missing, f"{len(missing)} thanked signer(s) not saved exactly once, e.g. {missing[:3]}"
    assert all(n == 1 for n in counts.values())
    # Every saved signature has its confirmation email: queued, or already written out.
    # The queue first: a message is written out before it leaves the queue, so counting
    # in this order may see one twice while the sender works, but never miss one.
    queued = site.rows("SELECT COUNT(*) FROM outgoing_mail")[0][0]
    outbox = site.workdir / "outbox"
    written = len(list(outbox.glob("*.eml"))) if outbox.is_dir() else 0
    load_rows = sum(n for address, n in counts.items() if address.startswith("load-"))
    assert written + queued >= load_rows


def test_killing_a_worker_mid_load_loses_no_thanked_signature(site):
    site.start(workers=2)
    killed = []

    def kill_one_worker():
        victim = site.workers()[0]
        os.kill(victim, signal.SIGKILL)
        killed.append(victim)

    result = run_load(site.port, total=200, during=kill_one_worker)
    assert killed
    assert len(result.thanked) == 200, (result.connection_errors, result.other, site.log_tail())
    assert result.other == []
    assert_each_thanked_signer_saved_once(site, result)
    # The master replaced the worker, and the site keeps answering and taking signatures.
    assert site.answers()
    assert killed[0] not in site.workers() and len(site.workers()) == 2
    assert Signer(site.port).sign("after-the-kill@example.org")[0] == 303


def test_stopping_and_restarting_the_server_mid_load_loses_no_thanked_signature(site):
    site.start(workers=2)

    def restart():
        site.stop()  # SIGTERM: in-flight requests finish, new ones are refused
        site.start(workers=2)

    result = run_load(site.port, total=200, during=restart, pause=0.01)
    assert len(result.thanked) == 200 and result.connection_errors > 0, (result.connection_errors, result.other, site.log_tail())
    assert result.other == []
    assert_each_thanked_signer_saved_once(site, result)
    assert site.answers()


def test_signing_while_the_mail_server_is_down_then_mail_goes_out_once(site):
    mail_port = free_port()
    site.env["COALITION_MAIL_URL"] = f"smtp://127.0.0.1:{mail_port}"
    site.env["COALITION_MAIL_TIMEOUT_SECONDS"] = "2"
    site.start(workers=2)
    result = run_load(site.port, total=20, threads=4)
    assert len(result.thanked) == 20 and result.other == []
    assert_each_thanked_signer_saved_once(site, result)
    # The background sender tried and failed: every message waits in the queue.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not site.rows("SELECT 1 FROM outgoing_mail WHERE attempts > 0"):
        time.sleep(0.1)
    assert site.rows("SELECT COUNT(*) FROM outgoing_mail")[0][0] == 20

    from aiosmtpd.controller import Controller

    mailbox = _MailCollector()
    controller = Controller(mailbox, hostname="127.0.0.1", port=mail_port)
    controller.start()
    try:
        # The command sends what waits; the background sender (woken by each signature)
        # may take some of it too now that the server is back. Claims keep them apart.
        sent = site.flask("send-pending-mail")
        assert sent.returncode == 0 and ", 0 failed" in sent.stdout, sent.stdout + sent.stderr
        assert site.rows("SELECT COUNT(*) FROM outgoing_mail")[0][0] == 0
        assert "0 sent, 0 failed" in site.flask("send-pending-mail").stdout
        # Signing now is mailed by the background sender alone.
        assert Signer(site.port).sign("after-the-outage@example.org")[0] == 303
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and len(mailbox.messages) < 21:
            time.sleep(0.1)
        time.sleep(0.5)  # room for a duplicate to show up, if there were one
    finally:
        controller.stop()
    received = sorted(str(message["To"]) for message in mailbox.messages)
    assert received == sorted(result.thanked + ["after-the-outage@example.org"])
    assert site.rows("SELECT COUNT(*) FROM outgoing_mail")[0][0] == 0


def test_signing_goes_on_when_the_redis_rate_limit_storage_is_down(site):
    site.env["COALITION_RATELIMIT_STORAGE_URI"] = f"redis://127.0.0.1:{free_port()}/0"
    site.start(workers=2)
    result = run_load(site.port, total=30, threads=3)
    assert len(result.thanked) == 30 and result.other == [] and result.connection_errors == 0
    assert_each_thanked_signer_saved_once(site, result)
    assert site.answers()


# --- The database cannot be written: read-only, or the disk is full -------------------------


def _sign_form_data(address: str) -> dict:
    from coalition.tokens import make_token

    return {"full_name": "Rosa Parks", "email": address, "zip_code": "10027", "country": "",
            "form_started": make_token("form-time", int(time.time()))}


def _row_counts() -> tuple[int, int, int]:
    db.session.rollback()
    return (
        db.session.scalar(db.select(db.func.count(Signature.id))),
        db.session.scalar(db.select(db.func.count(Pledge.id))),
        db.session.scalar(db.select(db.func.count(OutgoingMail.id))),
    )


def _assert_clear_error_page(response) -> None:
    html = response.get_data(as_text=True)
    assert response.status_code == 503
    assert "could not be saved" in html and "Nothing was saved" in html
    assert 'class="site-header"' in html
    assert "Traceback" not in html and "sqlite" not in html.lower()
    assert response.headers.get("Retry-After")


def test_a_read_only_database_gives_a_clear_page_and_no_partial_rows(app, client, make_campaign, monkeypatch):
    if not app.config["DATABASE_URL"].startswith("sqlite"):
        pytest.skip("read-only is simulated with SQLite's query_only pragma")
    # Mail stays queued (not sent inline), so the queue shows what each request wrote.
    monkeypatch.setattr(mail, "wake_sender", lambda: None)
    slug = make_campaign().slug
    assert client.post(f"/campaigns/{slug}", data=_sign_form_data("first@example.org")).status_code == 303
    before = _row_counts()

    # Every new connection refuses writes, as a database file mounted read-only would.
    def read_only(dbapi_connection, _record):
        dbapi_connection.execute("PRAGMA query_only = ON")

    event.listen(db.engine, "connect", read_only)
    db.session.remove()
    db.engine.dispose()
    try:
        data = _sign_form_data("second@example.org")
        data["also_pledge"] = ["alternatives-to-incarceration"]
        response = client.post(f"/campaigns/{slug}", data=data)
        _assert_clear_error_page(response)
        # Pages that only read still work.
        assert client.get(f"/campaigns/{slug}").status_code == 200
        with pytest.raises(OperationalError):
            db.session.execute(db.text("DELETE FROM outgoing_mail"))
    finally:
        db.session.rollback()
        event.remove(db.engine, "connect", read_only)
        db.engine.dispose()
    assert _row_counts() == before


@pytest.fixture
def tiny_disk(tmp_path):
    """An 8 MB tmpfs, so the disk can really be filled (needs permission to mount: root)."""
    mountpoint = tmp_path / "tiny-disk"
    mountpoint.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mountpoint)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.strip() or mounted.returncode}")
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", "-l", str(mountpoint)], check=False)


def _fill(folder: Path) -> None:
    """Write until the file system refuses."""
    try:
        with (folder / "filler").open("wb") as handle:
            while True:
                handle.write(b"\0" * 4096)
                handle.flush()
    except OSError:
        pass


def test_a_full_disk_gives_a_clear_page_and_no_partial_rows(app_factory, tiny_disk, monkeypatch):
    if not os.environ.get("COALITION_TEST_DATABASE_URL", "").startswith(("", "sqlite")):
        pytest.skip("the full disk is SQLite's")
    from coalition.services import campaigns as campaign_service
    from coalition.services import content as content_service

    monkeypatch.setattr(mail, "wake_sender", lambda: None)
    app = app_factory(DATABASE_URL="sqlite:///" + str(tiny_disk / "site.sqlite"))
    with app.app_context():
        content_service.load_content(app.config["CONTENT_FILE"])
        campaign_service.create_campaign(
            slug="full-disk", title="Full disk", summary="s", body="b", target=10, status="open",
            goal_slugs=["alternatives-to-incarceration"],
        )
        db.session.commit()
        client = app.test_client()
        assert client.post("/campaigns/full-disk", data=_sign_form_data("first@example.org")).status_code == 303
        before = _row_counts()
        _fill(tiny_disk)
        long_comment = "Why I sign. " * 40
        for number in range(5):
            data = _sign_form_data(f"full-{number}@example.org")
            data["comment"] = long_comment
            response = client.post("/campaigns/full-disk", data=data)
            if response.status_code != 303:
                break
        _assert_clear_error_page(response)
        assert _row_counts()[0] < before[0] + 5
        os.remove(tiny_disk / "filler")
        after = _row_counts()
        # Whatever was saved before the disk filled is whole: each signature with its mail.
        assert after[0] - before[0] == after[2] - before[2]
        # Space again: signing works again.
        assert client.post("/campaigns/full-disk", data=_sign_form_data("later@example.org")).status_code == 303
        db.session.remove()
        db.engine.dispose()
