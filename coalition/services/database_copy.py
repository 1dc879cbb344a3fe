"""Copying a whole site database to another (SQLite to PostgreSQL), and SQLite backups."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from coalition.extensions import db

BATCH_ROWS = 5000
#: Tables a fresh, migrated database already fills: the source's rows replace them (the
#: suppression list's key must move with its hashes, or unsubscribes would be lost).
MADE_BY_MIGRATIONS = frozenset({"site_keys"})


class CopyError(RuntimeError):
    """The copy cannot go ahead (target not migrated, or not empty)."""


@dataclass
class CopyReport:
    """Rows copied per table."""

    rows: dict[str, int] = field(default_factory=dict)


def copy_database(
    source: Engine, target: Engine, progress: Callable[[str, int], None] | None = None
) -> CopyReport:
    """Copy every table of the site from ``source`` to an empty, migrated ``target``.

    Tables go in foreign-key order, in batches, in one transaction on the target; on
    PostgreSQL the id sequences are then moved past the copied ids.
    """
    tables = db.metadata.sorted_tables
    target_tables = set(sa.inspect(target).get_table_names())
    missing = [t.name for t in tables if t.name not in target_tables]
    if missing:
        raise CopyError(
            "the target has no tables " + ", ".join(missing[:5]) + ": run `flask --app app db upgrade` on it first"
        )
    report = CopyReport()
    with source.connect() as src, target.begin() as dst:
        for table in tables:
            if table.name in MADE_BY_MIGRATIONS:
                continue
            if dst.execute(sa.select(sa.func.count()).select_from(table)).scalar():
                raise CopyError(f"the target's table {table.name} is not empty; copy only into a new database")
        for table in tables:
            if table.name in MADE_BY_MIGRATIONS:
                dst.execute(table.delete())
            copied = 0
            result = src.execution_options(stream_results=True).execute(sa.select(table))
            while batch := result.fetchmany(BATCH_ROWS):
                dst.execute(table.insert(), [dict(row._mapping) for row in batch])
                copied += len(batch)
                if progress:
                    progress(table.name, copied)
            report.rows[table.name] = copied
        if target.dialect.name == "postgresql":
            for table in tables:
                if "id" in table.c and isinstance(table.c.id.type, sa.Integer) and table.c.id.autoincrement:
                    # Table names come from the site's own metadata, never from input.
                    name = table.name
                    statement = f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), COALESCE((SELECT MAX(id) FROM {name}), 0) + 1, false)"  # nosec B608
                    dst.execute(sa.text(statement))
        if "alembic_version" in target_tables and "alembic_version" in sa.inspect(source).get_table_names():
            version = src.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
            dst.execute(sa.text("DELETE FROM alembic_version"))
            dst.execute(sa.text("INSERT INTO alembic_version (version_num) VALUES (:v)"), {"v": version})
    return report


def backup_sqlite(database_path: str, destination: str) -> int:
    """Copy a live SQLite database consistently (the online backup API); returns pages copied."""
    source = sqlite3.connect(f"file:{database_path}?mode=ro", uri=True)
    target = sqlite3.connect(destination)
    try:
        with target:
            source.backup(target)
        pages = target.execute("PRAGMA page_count").fetchone()[0]
    finally:
        target.close()
        source.close()
    return pages
