"""Database engine tuning: SQLite pragmas and write transactions that queue.

SQLite allows one writer at a time. A transaction that reads and then writes under
the default deferred BEGIN fails with "database is locked" if another writer got in
between, so a request that may write (any POST) begins its transactions with
BEGIN IMMEDIATE: it takes the write lock first and waits up to the busy timeout
for it, and concurrent writers queue instead of failing. Page views keep a plain
BEGIN, and thanks to WAL they never wait for writers.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

from flask import Flask, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine

from coalition.extensions import db

_write_intent: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "coalition_write_intent", default=False
)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@contextlib.contextmanager
def write_intent() -> Iterator[None]:
    """Begin the transactions started inside this block as writers (SQLite IMMEDIATE)."""
    token = _write_intent.set(True)
    try:
        yield
    finally:
        _write_intent.reset(token)


def wants_write_lock() -> bool:
    """Whether a transaction beginning now should take SQLite's write lock at once."""
    if _write_intent.get():
        return True
    return has_request_context() and request.method not in SAFE_METHODS


def install_sqlite_tuning(engine: Engine, busy_timeout_ms: int) -> None:
    """Set the pragmas on each new connection and take over BEGIN on ``engine``."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        # Let SQLAlchemy's "begin" event emit BEGIN, so it can choose IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE" if wants_write_lock() else "BEGIN")


def init_app(app: Flask) -> None:
    """Tune the app's engine."""
    with app.app_context():
        install_sqlite_tuning(db.engine, app.config["SQLITE_BUSY_TIMEOUT_MS"])
