"""Confirmed counts kept in sharded counter rows.

Why shards: counting the signatures table on every page view grows with the table,
and one counter row per campaign would make every confirmation on PostgreSQL wait
for the same row lock. Instead each campaign (and goal) has ``SHARDS`` counter rows;
a change adds to one chosen at random, in the same transaction as the signature's
change of state, so the sum is exact and writers rarely meet on the same row. The
rows are created with the campaign, so adding never needs an insert-or-update race.
"""

from __future__ import annotations

import random

from sqlalchemy import func, update

from coalition.extensions import db
from coalition.models import PledgeCountShard, SignatureCountShard

#: Counter rows per campaign or goal.
SHARDS = 8


def _subject_column(model):
    """The model's subject column (campaign_id or goal_id)."""
    return model.campaign_id if model is SignatureCountShard else model.goal_id


def _create_counter(model, subject_id: int) -> None:
    key = _subject_column(model).key
    db.session.add_all(model(**{key: subject_id, "shard": shard, "confirmed": 0}) for shard in range(SHARDS))


def _ensure_counter(model, subject_id: int) -> None:
    column = _subject_column(model)
    exists = db.session.execute(db.select(model.shard).where(column == subject_id).limit(1)).first()
    if exists is None:
        _create_counter(model, subject_id)
        db.session.flush()


def _add(model, subject_id: int, delta: int) -> None:
    if delta == 0:
        return
    _ensure_counter(model, subject_id)
    db.session.execute(
        update(model)
        .where(_subject_column(model) == subject_id, model.shard == random.randrange(SHARDS))
        .values(confirmed=model.confirmed + delta)
    )


def _totals(model, subject_ids: list[int]) -> dict[int, int]:
    counts = {subject_id: 0 for subject_id in subject_ids}
    if subject_ids:
        column = _subject_column(model)
        stmt = db.select(column, func.sum(model.confirmed)).where(column.in_(subject_ids)).group_by(column)
        counts.update({subject_id: int(total or 0) for subject_id, total in db.session.execute(stmt)})
    return counts


def create_signature_counter(campaign_id: int) -> None:
    """Create the counter rows of a new campaign (call in the campaign's transaction)."""
    _create_counter(SignatureCountShard, campaign_id)


def create_pledge_counter(goal_id: int) -> None:
    """Create the counter rows of a goal."""
    _create_counter(PledgeCountShard, goal_id)


def add_to_signature_count(campaign_id: int, delta: int) -> None:
    """Add ``delta`` (may be negative) to a campaign's confirmed count, in the current transaction."""
    _add(SignatureCountShard, campaign_id, delta)


def add_to_pledge_count(goal_id: int, delta: int) -> None:
    """Add ``delta`` to a goal's confirmed pledge count, in the current transaction."""
    _add(PledgeCountShard, goal_id, delta)


def signature_counts(campaign_ids: list[int]) -> dict[int, int]:
    """Confirmed signatures per campaign, from the counters."""
    return _totals(SignatureCountShard, campaign_ids)


def pledge_counts(goal_ids: list[int]) -> dict[int, int]:
    """Confirmed pledges per goal, from the counters."""
    return _totals(PledgeCountShard, goal_ids)
