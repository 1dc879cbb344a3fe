"""Campaigns (petitions) and their confirmed-signature counters."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, CheckConstraint, Column, Date, ForeignKey, Integer, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coalition.extensions import db
from coalition.models.types import UTCDateTime, utcnow

if TYPE_CHECKING:
    from coalition.models.content import Goal
    from coalition.models.legislature import Committee, Legislator

CAMPAIGN_STATUSES = ("draft", "open", "closed", "archived")
#: Whom a petition is addressed to: nobody named, the Governor, the whole Legislature,
#: one chamber, the members of a committee, or legislators staff chose.
ADDRESSEES = ("none", "governor", "legislature", "senate", "assembly", "committee", "chosen")

#: The legislators a campaign addressed to "chosen" legislators names.
campaign_legislators = Table(
    "campaign_legislators",
    db.metadata,
    Column("campaign_id", ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True),
    Column("legislator_id", ForeignKey("legislators.id", ondelete="CASCADE"), primary_key=True),
)

#: What came of a campaign: delivered (on a date), won, lost, closed without result.
CAMPAIGN_OUTCOMES = ("delivered", "won", "lost", "no_result")

#: Which goals a campaign advances.
campaign_goals = Table(
    "campaign_goals",
    db.metadata,
    Column("campaign_id", ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True),
    Column("goal_id", ForeignKey("goals.id", ondelete="CASCADE"), primary_key=True),
)


class Campaign(db.Model):
    """A petition supporters sign."""

    __tablename__ = "campaigns"
    __table_args__ = (
        CheckConstraint("status IN ('draft', 'open', 'closed', 'archived')", name="status"),
        CheckConstraint("target > 0", name="target_positive"),
        CheckConstraint("slug <> ''", name="slug_not_empty"),
        CheckConstraint(
            "addressed_to IN ('none', 'governor', 'legislature', 'senate', 'assembly', 'committee', 'chosen')",
            name="addressed_to",
        ),
        CheckConstraint(
            "outcome IS NULL OR outcome IN ('delivered', 'won', 'lost', 'no_result')", name="outcome"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The campaign's address: /campaigns/<slug>.
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    #: One or two sentences for lists and sharing.
    summary: Mapped[str] = mapped_column(Text)
    #: The petition text, in the restricted formatting staff may use.
    body: Mapped[str] = mapped_column(Text, default="")
    title_es: Mapped[str] = mapped_column(String(200), default="")
    summary_es: Mapped[str] = mapped_column(Text, default="")
    body_es: Mapped[str] = mapped_column(Text, default="")
    #: How many confirmed signatures the campaign aims for.
    target: Mapped[int] = mapped_column(Integer)
    #: draft (not public), open (signable), closed (public, final), archived (hidden from lists).
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    #: When signing opens and the deadline; either may be unset.
    opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When it actually closed (by staff or by its deadline).
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Whom the petition is addressed to (one of ``ADDRESSEES``).
    addressed_to: Mapped[str] = mapped_column(String(16), default="none")
    #: The committee, when addressed to one.
    target_committee_id: Mapped[int | None] = mapped_column(ForeignKey("committees.id", ondelete="SET NULL"))
    #: Subject and text of the email a signer may send their legislators from their own mail app.
    legislator_mail_subject: Mapped[str] = mapped_column(String(200), default="")
    legislator_mail_body: Mapped[str] = mapped_column(Text, default="")
    #: Staff chose it for the home page's first screen (else the open one closest to its deadline).
    featured: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The share image staff uploaded (a file name under the instance folder's share-images), or NULL.
    share_image: Mapped[str | None] = mapped_column(String(80))
    #: What the share image shows, for people who cannot see it (required with the image).
    share_image_alt: Mapped[str] = mapped_column(String(300), default="")
    share_image_alt_es: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    #: What came of it (``CAMPAIGN_OUTCOMES``; NULL: not recorded), on which day, and
    #: a short public text in English and Spanish.
    outcome: Mapped[str | None] = mapped_column(String(16))
    outcome_on: Mapped[date | None] = mapped_column(Date)
    outcome_text: Mapped[str] = mapped_column(Text, default="")
    outcome_text_es: Mapped[str] = mapped_column(Text, default="")

    goals: Mapped[list[Goal]] = relationship(secondary=campaign_goals, order_by="Goal.position")
    target_committee: Mapped[Committee | None] = relationship()
    target_legislators: Mapped[list[Legislator]] = relationship(
        secondary=campaign_legislators, order_by="Legislator.name"
    )

    def __repr__(self) -> str:
        return f"<Campaign {self.slug}>"


class SignatureCountShard(db.Model):
    """One slice of a campaign's confirmed-signature count.

    The count is the sum of a campaign's shards. A confirmation adds one to a shard
    chosen at random, so concurrent confirmations on PostgreSQL rarely wait for the
    same row lock, and a page view sums a handful of rows instead of counting the
    signatures table. The shards change in the same transaction as the signature,
    so the sum is always exact.
    """

    __tablename__ = "signature_count_shards"
    __table_args__ = (CheckConstraint("shard >= 0", name="shard_not_negative"),)

    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True
    )
    shard: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: Confirmed signatures (online and paper) counted in this slice; may be negative
    #: in one slice after invalidations, never in the sum.
    confirmed: Mapped[int] = mapped_column(Integer, default=0)
