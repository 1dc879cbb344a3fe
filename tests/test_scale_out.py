"""The scale-out path: Redis rate-limit storage, gunicorn, copying to PostgreSQL, backups, logs."""

from __future__ import annotations

import json
import logging
import os
import runpy
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from coalition import PROJECT_ROOT, create_app
from coalition.extensions import db, limiter
from coalition.logs import JsonFormatter, scrub
from coalition.models import Campaign, Goal, Signature
from coalition.services import counting
from tests.conftest import free_port


def _limited_app(app_factory, storage_uri, limit="3 per minute"):
    app = app_factory(
        RATELIMIT_ENABLED=True,
        RATELIMIT_STORAGE_URI=storage_uri,
        RATELIMIT_KEY_PREFIX=f"test-{uuid.uuid4().hex}",
    )

    @app.get("/limited")
    @limiter.limit(limit)
    def limited():
        return "ok"

    return app


def test_redis_storage_lets_exactly_n_through(app_factory, redis_url):
    import redis

    redis.Redis.from_url(redis_url).flushdb()  # the tests' own database number
    client = _limited_app(app_factory, redis_url).test_client()
    codes = [client.get("/limited").status_code for _ in range(6)]
    assert codes == [200, 200, 200, 429, 429, 429]


def test_unreachable_redis_keeps_the_site_up_and_warns_once(app_factory, caplog):
    client = _limited_app(app_factory, "redis://127.0.0.1:1/0").test_client()
    with caplog.at_level(logging.WARNING, logger="flask-limiter"):
        codes = [client.get("/limited").status_code for _ in range(5)]
    # Limits still apply, from this process's memory.
    assert codes == [200, 200, 200, 429, 429]
    warnings = [r for r in caplog.records if "falling back to in-memory" in r.getMessage()]
    assert len(warnings) == 1


def _wait_for(url: str, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except (urllib.error.URLError, ConnectionError, OSError):
            time.sleep(0.2)
    raise AssertionError(f"server did not answer at {url}")


@pytest.mark.slow
def test_three_gunicorn_workers_share_one_limit_through_redis(tmp_path, redis_url):
    database = f"sqlite:///{tmp_path}/site.sqlite"
    env = dict(
        os.environ,
        COALITION_DATABASE_URL=database,
        COALITION_RATELIMIT_STORAGE_URI=redis_url,
        COALITION_RATELIMIT_KEY_PREFIX=f"gunicorn-{uuid.uuid4().hex}",
        COALITION_CONFIRM_RATE_LIMIT="7 per minute",
        COALITION_SECRET_KEY="s" * 40,
    )
    flask = [sys.executable, "-m", "flask", "--app", "app"]
    subprocess.run([*flask, "db", "upgrade"], env=env, cwd=PROJECT_ROOT, check=True, capture_output=True)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", "3", "--bind", f"127.0.0.1:{port}", "app:app"],
        env=env,
        cwd=PROJECT_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for(f"http://127.0.0.1:{port}/healthz")

        def hit(_):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/confirm/not-a-token", timeout=10) as r:
                    return r.status
            except urllib.error.HTTPError as error:
                return error.code

        with ThreadPoolExecutor(max_workers=6) as pool:
            codes = list(pool.map(hit, range(30)))
    finally:
        server.terminate()
        server.wait(timeout=20)
    assert codes.count(429) == 23
    assert codes.count(404) == 7  # exactly N let through, across all workers


def test_copy_sqlite_site_to_postgresql(tmp_path, postgres_target):
    from flask_migrate import upgrade

    source_app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path}/old.sqlite", "SECRET_KEY": "k" * 40})
    with source_app.app_context():
        upgrade()
        runner = source_app.test_cli_runner()
        runner.invoke(args=["load-content"])
        runner.invoke(args=["seed-demo"])
        expected = {t.name: db.session.execute(sa.select(sa.func.count()).select_from(t)).scalar() for t in db.metadata.sorted_tables}
        source_key = db.session.execute(sa.text("SELECT value FROM site_keys WHERE name = 'suppression'")).scalar_one()
        result = runner.invoke(args=["copy-database", "--to", postgres_target])
        assert "run `flask --app app db upgrade` on it first" in result.output  # target not migrated yet
        db.session.remove()

    target_app = create_app({"TESTING": True, "DATABASE_URL": postgres_target, "SECRET_KEY": "k" * 40})
    with target_app.app_context():
        upgrade()
        db.session.remove()
        db.engine.dispose()

    with source_app.app_context():
        result = source_app.test_cli_runner().invoke(args=["copy-database", "--to", postgres_target])
        assert result.exit_code == 0, result.output
        assert f"Copied {sum(expected.values())} rows" in result.output
        again = source_app.test_cli_runner().invoke(args=["copy-database", "--to", postgres_target])
        assert again.exit_code != 0 and "not empty" in again.output
        db.session.remove()
        db.engine.dispose()

    with target_app.app_context():
        copied = {t.name: db.session.execute(sa.select(sa.func.count()).select_from(t)).scalar() for t in db.metadata.sorted_tables}
        assert copied == expected
        # The suppression list's key moved with its hashes (the target's own was replaced).
        assert db.session.execute(sa.text("SELECT value FROM site_keys WHERE name = 'suppression'")).scalar_one() == source_key
        campaign = db.session.execute(sa.select(Campaign).filter_by(slug="alternatives-not-prison")).scalar_one()
        assert counting.signature_counts([campaign.id])[campaign.id] == 37
        # The sequences moved on: new rows get new ids.
        db.session.add(Signature(campaign_id=campaign.id, full_name="New Person", email="new@example.org", email_normalized="new@example.org"))
        db.session.add(Goal(slug="new-goal", title="T", summary="S"))
        db.session.commit()
        db.session.remove()
        db.engine.dispose()


def test_backup_sqlite_command(app, runner, content, tmp_path):
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("SQLite backup applies to SQLite")
    destination = tmp_path / "backup.sqlite"
    result = runner.invoke(args=["backup-sqlite", str(destination)])
    assert result.exit_code == 0, result.output
    with sqlite3.connect(destination) as copy:
        assert copy.execute("SELECT COUNT(*) FROM goals").fetchone()[0] == 6


def test_logs_are_json_lines_with_emails_and_tokens_masked():
    record = logging.LogRecord("coalition", logging.WARNING, __file__, 1, "mail to %s failed at /confirm/%s", ("rosa@example.org", "eyJzIjpbMV0sInAiOltdfQ.Z1xYzA.abcdefghijklmnopqrstuv"), None)
    line = JsonFormatter().format(record)
    entry = json.loads(line)
    assert entry["level"] == "warning"
    assert "rosa@example.org" not in line and "<email>" in entry["msg"]
    assert "abcdefghijklmnop" not in line and "<token>" in entry["msg"]
    assert scrub("nothing personal") == "nothing personal"


@pytest.mark.slow
def test_gunicorn_access_log_never_records_tokens_emails_or_addresses(tmp_path):
    settings = runpy.run_path(os.path.join(PROJECT_ROOT, "gunicorn.conf.py"))
    assert settings["workers"] >= 2 and settings["timeout"] > 0
    env = dict(os.environ, COALITION_DATABASE_URL=f"sqlite:///{tmp_path}/site.sqlite", COALITION_SECRET_KEY="s" * 40)
    port = free_port()
    log_path = tmp_path / "access.log"
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", "1", "--bind", f"127.0.0.1:{port}", "--access-logfile", str(log_path), "app:app"],
        env=env,
        cwd=PROJECT_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    token = "eyJzIjpbMV0sInAiOltdfQ.Z1xYzA.abcdefghijklmnopqrstuv"
    try:
        _wait_for(f"http://127.0.0.1:{port}/healthz")
        for path in (f"/confirm/{token}", "/staff/search?q=rosa%40example.org", "/goals/rosa@example.org"):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10).close()
            except urllib.error.HTTPError:
                pass
    finally:
        server.terminate()
        server.wait(timeout=20)
    log = log_path.read_text()
    assert "/confirm/<token>" in log
    assert "abcdefghijklmnop" not in log
    assert "rosa" not in log
    assert "127.0.0.1" not in log
