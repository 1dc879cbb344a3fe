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
import logging
from collections.abc import Iterator

from flask import Flask, current_app, has_request_context, request
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


log = logging.getLogger(__name__)


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
        # Deleted and overwritten content is zeroed, not left in free pages and cells:
        # an erased supporter's name and email must not stay readable in the file.
        cursor.execute("PRAGMA secure_delete = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE" if wants_write_lock() else "BEGIN")


#: Tables that hold supporters' personal data, cleaned out of the files after an erasure.
PERSONAL_DATA_TABLES = ("signatures", "pledges", "endorsements", "outgoing_mail")
#: How long SQLite's checkpoint after an erasure may wait for open readers, in milliseconds.
CHECKPOINT_WAIT_MS = 2000
#: How long PostgreSQL's VACUUM FULL after an erasure may wait for its table's lock.
VACUUM_LOCK_TIMEOUT_SECONDS = 5


def clear_erased_data_from_files() -> None:
    """After an erasure is committed, take what it removed out of the database's files too.

    SQLite (with ``secure_delete`` on) has zeroed it in the main file's pages, but the WAL
    still holds the pages as they were until a checkpoint: one is run, and the WAL
    truncated. PostgreSQL keeps erased rows in its files until VACUUM FULL rewrites them:
    the personal-data tables are rewritten now.
    """
    engine = db.engine
    # Outside any transaction (neither a checkpoint nor VACUUM runs in one): the driver's
    # own connection, in autocommit. Best effort: the erasure itself is already committed.
    raw = engine.raw_connection()
    try:
        cursor = raw.driver_connection.cursor()
        if engine.dialect.name == "sqlite":
            # A reader still open (a long export) holds the checkpoint back: wait for it a
            # little, not the full busy timeout, so the staff member is answered promptly.
            cursor.execute(f"PRAGMA busy_timeout = {int(CHECKPOINT_WAIT_MS)}")
            try:
                busy = cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
            finally:
                # The connection goes back to the pool: with the app's own wait again.
                cursor.execute(f"PRAGMA busy_timeout = {int(current_app.config['SQLITE_BUSY_TIMEOUT_MS'])}")
            if busy:
                log.warning("clearing erased data from the files did not finish: a reader was open; "
                            "the next erasure's checkpoint clears it")
        elif engine.dialect.name == "postgresql":
            raw.driver_connection.autocommit = True
            # FULL: plain VACUUM marks the space free but leaves the old bytes in the
            # pages. A rewrite locks the table while it runs: waiting at most a few
            # seconds for that lock, so that signing never queues long behind it.
            cursor.execute(f"SET lock_timeout = '{int(VACUUM_LOCK_TIMEOUT_SECONDS)}s'")
            for table in PERSONAL_DATA_TABLES:
                cursor.execute(f'VACUUM FULL "{table}"')
            cursor.execute("RESET lock_timeout")
        cursor.close()
    except Exception as exc:  # a busy database: the next erasure or checkpoint catches up
        log.warning("clearing erased data from the files did not finish: %s", exc.__class__.__name__)
    finally:
        if engine.dialect.name == "postgresql":
            raw.driver_connection.autocommit = False
        raw.close()


def init_app(app: Flask) -> None:
    """Tune the app's engine."""
    with app.app_context():
        install_sqlite_tuning(db.engine, app.config["SQLITE_BUSY_TIMEOUT_MS"])
