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


def create_signature_counter(campaign_id: int) -> None:
    """Create the counter rows of a new campaign (call in the campaign's transaction)."""
    db.session.add_all(
        SignatureCountShard(campaign_id=campaign_id, shard=shard, confirmed=0) for shard in range(SHARDS)
    )


def create_pledge_counter(goal_id: int) -> None:
    """Create the counter rows of a goal."""
    db.session.add_all(PledgeCountShard(goal_id=goal_id, shard=shard, confirmed=0) for shard in range(SHARDS))


def _ensure_signature_counter(campaign_id: int) -> None:
    exists = db.session.execute(
        db.select(SignatureCountShard.shard).where(SignatureCountShard.campaign_id == campaign_id).limit(1)
    ).first()
    if exists is None:
        create_signature_counter(campaign_id)
        db.session.flush()


def _ensure_pledge_counter(goal_id: int) -> None:
    exists = db.session.execute(
        db.select(PledgeCountShard.shard).where(PledgeCountShard.goal_id == goal_id).limit(1)
    ).first()
    if exists is None:
        create_pledge_counter(goal_id)
        db.session.flush()


def add_to_signature_count(campaign_id: int, delta: int) -> None:
    """Add ``delta`` (may be negative) to a campaign's confirmed count, in the current transaction."""
    if delta == 0:
        return
    _ensure_signature_counter(campaign_id)
    db.session.execute(
        update(SignatureCountShard)
        .where(
            SignatureCountShard.campaign_id == campaign_id,
            SignatureCountShard.shard == random.randrange(SHARDS),
        )
        .values(confirmed=SignatureCountShard.confirmed + delta)
    )


def add_to_pledge_count(goal_id: int, delta: int) -> None:
    """Add ``delta`` to a goal's confirmed pledge count, in the current transaction."""
    if delta == 0:
        return
    _ensure_pledge_counter(goal_id)
    db.session.execute(
        update(PledgeCountShard)
        .where(PledgeCountShard.goal_id == goal_id, PledgeCountShard.shard == random.randrange(SHARDS))
        .values(confirmed=PledgeCountShard.confirmed + delta)
    )


def signature_counts(campaign_ids: list[int]) -> dict[int, int]:
    """Confirmed signatures per campaign, from the counters."""
    counts = {campaign_id: 0 for campaign_id in campaign_ids}
    if campaign_ids:
        stmt = (
            db.select(SignatureCountShard.campaign_id, func.sum(SignatureCountShard.confirmed))
            .where(SignatureCountShard.campaign_id.in_(campaign_ids))
            .group_by(SignatureCountShard.campaign_id)
        )
        counts.update({campaign_id: int(total or 0) for campaign_id, total in db.session.execute(stmt)})
    return counts


def pledge_counts(goal_ids: list[int]) -> dict[int, int]:
    """Confirmed pledges per goal, from the counters."""
    counts = {goal_id: 0 for goal_id in goal_ids}
    if goal_ids:
        stmt = (
            db.select(PledgeCountShard.goal_id, func.sum(PledgeCountShard.confirmed))
            .where(PledgeCountShard.goal_id.in_(goal_ids))
            .group_by(PledgeCountShard.goal_id)
        )
        counts.update({goal_id: int(total or 0) for goal_id, total in db.session.execute(stmt)})
    return counts
