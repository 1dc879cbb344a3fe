"""Pledges of support for the coalition's goals."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coalition.extensions import db
from coalition.models.legislature import DISTRICTS_SET_BY_CHECK, SignerDistricts
from coalition.models.types import UTCDateTime, utcnow
from coalition.tokens import new_link_key

if TYPE_CHECKING:
    from coalition.models.content import Goal, PledgeAction

PLEDGE_STATUSES = ("pending", "confirmed", "invalidated")

#: The actions a pledge commits to.
pledge_action_choices = Table(
    "pledge_action_choices",
    db.metadata,
    Column("pledge_id", ForeignKey("pledges.id", ondelete="CASCADE"), primary_key=True),
    Column("action_id", ForeignKey("pledge_actions.id", ondelete="CASCADE"), primary_key=True),
)


class Pledge(SignerDistricts, db.Model):
    """A supporter's pledge to act for one goal; confirmed by email like a signature."""

    __tablename__ = "pledges"
    __table_args__ = (
        UniqueConstraint("goal_id", "email_normalized"),
        CheckConstraint("status IN ('pending', 'confirmed', 'invalidated')", name="status"),
        CheckConstraint(
            "status <> 'confirmed' OR confirmed_at IS NOT NULL", name="confirmed_has_time"
        ),
        CheckConstraint(DISTRICTS_SET_BY_CHECK, name="districts_set_by"),
        CheckConstraint(
            "wants_updates = false OR updates_consented_at IS NOT NULL", name="consent_has_time"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    goal_id: Mapped[int] = mapped_column(ForeignKey("goals.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    full_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    #: Same normal form as for signatures; one pledge per goal and mailbox.
    email_normalized: Mapped[str | None] = mapped_column(String(320), index=True)
    zip_code: Mapped[str | None] = mapped_column(String(10))
    city: Mapped[str | None] = mapped_column(String(100))
    county: Mapped[str | None] = mapped_column(String(100))
    state: Mapped[str | None] = mapped_column(String(2))
    country: Mapped[str | None] = mapped_column(String(100))
    #: Optional message to the coalition.
    message: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(8), default="en")
    #: Consent to be emailed updates (about this goal and the coalition), and when
    #: given; when the mailbox unsubscribed.
    wants_updates: Mapped[bool] = mapped_column(Boolean, default=False)
    updates_consented_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updates_withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    client_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    #: The signature submitted in the same form, if any (one email confirms both).
    signature_id: Mapped[int | None] = mapped_column(
        ForeignKey("signatures.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    invalidated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmation_sends: Mapped[int] = mapped_column(Integer, default=0)
    last_confirmation_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    anonymized_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Random, never reused: the emailed links name the record by id and this key, since
    #: SQLite gives a deleted row's id again (NULL on rows made before keys existed).
    link_key: Mapped[str | None] = mapped_column(String(32), default=new_link_key)

    goal: Mapped[Goal] = relationship()
    actions: Mapped[list[PledgeAction]] = relationship(secondary=pledge_action_choices)


class PledgeCountShard(db.Model):
    """One slice of a goal's confirmed-pledge count (see ``SignatureCountShard``)."""

    __tablename__ = "pledge_count_shards"
    __table_args__ = (CheckConstraint("shard >= 0", name="shard_not_negative"),)

    goal_id: Mapped[int] = mapped_column(ForeignKey("goals.id", ondelete="CASCADE"), primary_key=True)
    shard: Mapped[int] = mapped_column(Integer, primary_key=True)
    confirmed: Mapped[int] = mapped_column(Integer, default=0)
