"""Databases for the benchmarks: migrated schema, the coalition's content, campaigns, bulk rows.

Bulk rows are written straight to the database (``sqlite3`` executemany, PostgreSQL
COPY), not through the app: a million signatures through the sign form would take
longer than the benchmark itself.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FLASK = os.path.join(os.path.dirname(sys.executable), "flask")

BODY = "\n\n".join(
    [
        "New York holds thousands of women in its prisons and jails, most of them mothers, "
        "most of them for offences rooted in poverty, abuse and addiction.",
        "We ask the Legislature and the Governor to pass the bills this campaign names, "
        "and to fund the programmes that bring women home to their families sooner.",
        "Every signature is counted once its owner confirms it, and delivered with the "
        "county each signer lives in, so every lawmaker sees support from home.",
    ]
)


def clean_environment() -> dict:
    """This process's environment without any COALITION_* setting of the caller's."""
    return {name: value for name, value in os.environ.items() if not name.startswith("COALITION_")}


def migrate(url: str) -> None:
    """Create the schema with the site's own migrations."""
    env = {**clean_environment(), "COALITION_DATABASE_URL": url}
    subprocess.run([FLASK, "--app", "app", "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)


def setup_campaigns(url: str, slugs: list[str], counts: dict[str, int] | None = None) -> dict[str, int]:
    """Load the content and add open campaigns (with two goals each); return their ids by slug.

    ``counts`` sets a campaign's confirmed counter (its rows are added by ``bulk_signatures``).
    """
    from coalition import create_app
    from coalition.database import write_intent
    from coalition.extensions import db
    from coalition.models import Goal
    from coalition.services import campaigns, content, counting

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench-setup"})
    ids = {}
    with app.app_context(), write_intent():
        content.load_content(app.config["CONTENT_FILE"])
        db.session.commit()
        goal_slugs = list(db.session.execute(db.select(Goal.slug).order_by(Goal.position).limit(2)).scalars())
        for slug in slugs:
            campaign = campaigns.create_campaign(
                slug=slug,
                title=f"Bring women home: {slug}",
                summary="Ask New York to pass the bills that bring women home to their families.",
                body=BODY,
                target=1_000_000,
                status="open",
                goal_slugs=goal_slugs,
            )
            if counts and counts.get(slug):
                counting.add_to_signature_count(campaign.id, counts[slug])
            ids[slug] = campaign.id
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return ids


_FIRST = ["Ana", "Maria", "Keisha", "Rosa", "Linda", "Tanya", "Joy", "Carmen", "Beatriz", "Ngozi"]
_PLACES = [
    ("10027", "New York", "New York County"),
    ("11216", "Brooklyn", "Kings County"),
    ("12207", "Albany", "Albany County"),
    ("14604", "Rochester", "Monroe County"),
]


def signature_rows(campaign_id: int, count: int, start: int = 0):
    """Confirmed online signatures with realistic values (some comments need quoting)."""
    base = datetime(2026, 1, 1, tzinfo=timezone.utc)
    for i in range(start, start + count):
        zip_code, city, county = _PLACES[i % len(_PLACES)]
        created = base + timedelta(seconds=i)
        comment = 'My sister, "Dee", came home in 2019.' if i % 10 == 0 else ""
        yield (
            campaign_id, "confirmed", "online", f"{_FIRST[i % 10]} Signer{i}", f"signer{i}@example.org",
            f"signer{i}@example.org", zip_code, city, county, "NY", None, comment, i % 3 == 0,
            i % 2 == 0, created if i % 2 == 0 else None, "en" if i % 4 else "es", created,
            created + timedelta(minutes=5), 1, created,
        )


_COLUMNS = (
    "campaign_id, status, source, full_name, email, email_normalized, zip_code, city, county, state, "
    "country, comment, show_publicly, wants_updates, updates_consented_at, language, created_at, "
    "confirmed_at, confirmation_sends, last_confirmation_sent_at"
)


def _sqlite_value(value):
    # The format SQLAlchemy's SQLite DateTime writes and reads back.
    return value.strftime("%Y-%m-%d %H:%M:%S.%f") if isinstance(value, datetime) else value


def bulk_signatures(url: str, campaign_id: int, count: int, batch: int = 50_000) -> None:
    """Add ``count`` confirmed signatures to a campaign, fast."""
    if url.startswith("sqlite"):
        connection = sqlite3.connect(sa.engine.make_url(url).database)
        connection.execute("PRAGMA journal_mode = WAL")
        placeholders = ", ".join("?" * 20)
        rows = ([_sqlite_value(v) for v in row] for row in signature_rows(campaign_id, count))
        with connection:
            connection.executemany(f"INSERT INTO signatures ({_COLUMNS}) VALUES ({placeholders})", rows)
        connection.close()
        return
    import psycopg

    plain = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain) as connection, connection.cursor() as cursor:
        with cursor.copy(f"COPY signatures ({_COLUMNS}) FROM STDIN") as copy:
            for row in signature_rows(campaign_id, count):
                copy.write_row(row)
        cursor.execute("ANALYZE signatures")


def count_rows(url: str, sql: str, **params) -> int:
    """One number from the database (row checks)."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(sa.text(sql), params).scalar() or 0)
    finally:
        engine.dispose()
