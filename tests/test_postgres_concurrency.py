"""Signing under concurrency on PostgreSQL: one row per mailbox, exact counts, no shared hot row."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from coalition.database import write_intent
from coalition.extensions import db
from coalition.models import Campaign, Signature
from coalition.services import confirmations, counting
from coalition.services import signing
from coalition.services.signing import SignerDetails


@pytest.fixture
def pg_app(app_factory, postgres_target):
    """An app on its own PostgreSQL schema, with content and two open campaigns."""
    app = app_factory(DATABASE_URL=postgres_target, SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 60, "max_overflow": 0})
    with app.app_context():
        from coalition.services.content import load_content

        load_content(app.config["CONTENT_FILE"])
        db.session.commit()
        from datetime import timedelta

        from coalition.models.types import utcnow
        from coalition.services.campaigns import create_campaign

        for slug in ("first", "second"):
            create_campaign(slug=slug, title=slug, summary="s", target=100, status="open",
                            opens_at=utcnow() - timedelta(days=1), closes_at=utcnow() + timedelta(days=9))
        db.session.commit()
    return app


def _run_threads(count, target):
    barrier = threading.Barrier(count)
    errors = []

    def run(n):
        try:
            barrier.wait()
            target(n)
        except Exception as exc:  # collected and asserted by the caller
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_fifty_concurrent_submissions_of_one_email_give_one_signature(pg_app):
    def sign(n):
        with pg_app.app_context(), write_intent():
            campaign = db.session.execute(sa.select(Campaign).filter_by(slug="first")).scalar_one()
            # The same mailbox, written fifty ways.
            email = f"Rosa.Martinez+{n}@Gmail.com" if n % 2 else "rosamartinez@gmail.com"
            signing.sign_petition(campaign, SignerDetails(full_name="Rosa Martínez", email=email, zip_code="10027"))
            db.session.commit()
            db.session.remove()

    errors = _run_threads(50, sign)
    assert errors == []
    with pg_app.app_context():
        rows = db.session.execute(sa.select(Signature.email_normalized)).scalars().all()
        assert rows == ["rosamartinez@gmail.com"]


def test_concurrent_confirmations_leave_the_count_exact(pg_app):
    with pg_app.app_context():
        campaign = db.session.execute(sa.select(Campaign).filter_by(slug="first")).scalar_one()
        tokens = []
        for n in range(40):
            result = signing.sign_petition(campaign, SignerDetails(full_name=f"Person {n}", email=f"p{n}@example.org", zip_code="10027"))
            tokens.append(confirmations.confirmation_token([result.signature]))
        db.session.commit()
        campaign_id = campaign.id
        db.session.remove()

    def confirm(n):
        with pg_app.app_context(), write_intent():
            # Every link used twice at once: each signature still counts once.
            confirmations.confirm_submission(tokens[n // 2])
            db.session.commit()
            db.session.remove()

    errors = _run_threads(80, lambda n: confirm(n % 80))
    assert errors == []
    with pg_app.app_context():
        assert counting.signature_counts([campaign_id])[campaign_id] == 40
        confirmed = db.session.execute(
            sa.select(sa.func.count()).select_from(Signature).where(Signature.status == "confirmed")
        ).scalar()
        assert confirmed == 40


def test_signing_different_campaigns_does_not_queue_on_one_row(pg_app):
    """While one confirmation's transaction is open on campaign "first", "second" is not blocked."""
    with pg_app.app_context():
        ids = {c.slug: c.id for c in db.session.execute(sa.select(Campaign)).scalars()}
        tokens = {}
        for slug in ("first", "second"):
            campaign = db.session.get(Campaign, ids[slug])
            result = signing.sign_petition(campaign, SignerDetails(full_name="A B", email=f"{slug}@example.org", zip_code="10027"))
            tokens[slug] = confirmations.confirmation_token([result.signature])
        db.session.commit()
        db.session.remove()

    holding = threading.Event()
    release = threading.Event()

    def hold_first():
        with pg_app.app_context():
            submission = confirmations.load_submission(tokens["first"])
            signature = submission.signatures[0]
            db.session.execute(sa.update(Signature).where(Signature.id == signature.id).values(status="confirmed", confirmed_at=sa.func.now()))
            counting.add_to_signature_count(signature.campaign_id, 1)  # locks one of first's counter rows
            holding.set()
            release.wait(10)
            db.session.rollback()
            db.session.remove()

    holder = threading.Thread(target=hold_first)
    holder.start()
    assert holding.wait(10)
    try:
        with pg_app.app_context():
            db.session.execute(sa.text("SET lock_timeout = '2s'"))
            result = confirmations.confirm_submission(tokens["second"])  # would time out if it waited
            assert result.signatures_confirmed == 1
            db.session.commit()
            assert counting.signature_counts([ids["second"]])[ids["second"]] == 1
            db.session.remove()
    finally:
        release.set()
        holder.join()
