"""The database: SQLite tuning, migrations that match the models."""

import threading

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade

from coalition.database import write_intent
from coalition.extensions import db
from coalition.models import Campaign


def _is_sqlite(app):
    return app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite")


def test_sqlite_pragmas(app):
    if not _is_sqlite(app):
        pytest.skip("SQLite tuning only applies to SQLite")
    with db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000


def test_concurrent_read_then_write_transactions_queue_instead_of_failing(app, make_campaign):
    """Each thread reads the campaign then writes: with BEGIN IMMEDIATE none fails."""
    if not _is_sqlite(app):
        pytest.skip("BEGIN IMMEDIATE is SQLite's; PostgreSQL services use row locks or atomic updates")
    campaign_id = make_campaign().id
    errors = []
    barrier = threading.Barrier(8)

    def worker(n):
        with app.app_context(), write_intent():
            try:
                barrier.wait()
                target = db.session.execute(db.select(Campaign.target).filter_by(id=campaign_id)).scalar_one()
                db.session.execute(sa.update(Campaign).where(Campaign.id == campaign_id).values(target=target + 1))
                db.session.commit()
            except Exception as exc:  # collected and asserted below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    db.session.rollback()  # end this thread's read snapshot
    assert db.session.get(Campaign, campaign_id).target == 108


def test_migrations_build_a_database_matching_the_models(app_factory):
    app = app_factory()
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as connection:
            connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
        upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, db.metadata)
        assert differences == []


def test_foreign_keys_and_check_constraints_are_enforced(app, make_campaign):
    campaign = make_campaign()
    with pytest.raises(sa.exc.IntegrityError):
        db.session.execute(sa.update(Campaign).where(Campaign.id == campaign.id).values(status="bogus"))
        db.session.flush()
    db.session.rollback()
    with pytest.raises(sa.exc.IntegrityError):
        db.session.execute(sa.update(Campaign).where(Campaign.id == campaign.id).values(target=0))
        db.session.flush()
    db.session.rollback()
