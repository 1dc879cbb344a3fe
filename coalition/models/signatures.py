"""Signatures of campaigns, online and on paper."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coalition.extensions import db
from coalition.models.legislature import DISTRICTS_SET_BY_CHECK, SignerDistricts
from coalition.models.types import UTCDateTime, utcnow
from coalition.tokens import new_link_key

if TYPE_CHECKING:
    from coalition.models.campaigns import Campaign

SIGNATURE_STATUSES = ("pending", "confirmed", "invalidated")
SIGNATURE_SOURCES = ("online", "paper")


class Signature(SignerDistricts, db.Model):
    """A supporter's signature on one campaign.

    Online signatures are pending until their owner confirms them by email; only
    confirmed ones count and show. Paper signatures are entered by staff and are
    confirmed when entered; they may have no email.
    """

    __tablename__ = "signatures"
    __table_args__ = (
        # One signature per campaign and person; NULL (paper, no email) never collides.
        UniqueConstraint("campaign_id", "email_normalized"),
        CheckConstraint("status IN ('pending', 'confirmed', 'invalidated')", name="status"),
        CheckConstraint("source IN ('online', 'paper')", name="source"),
        CheckConstraint(
            "source = 'paper' OR email_normalized IS NOT NULL OR anonymized_at IS NOT NULL",
            name="online_has_email",
        ),
        CheckConstraint(
            "status <> 'confirmed' OR confirmed_at IS NOT NULL", name="confirmed_has_time"
        ),
        CheckConstraint(
            "wants_updates = false OR updates_consented_at IS NOT NULL", name="consent_has_time"
        ),
        CheckConstraint(DISTRICTS_SET_BY_CHECK, name="districts_set_by"),
        Index("ix_signatures_campaign_status_confirmed", "campaign_id", "status", "confirmed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    #: pending (awaiting email confirmation), confirmed (counts), invalidated (by staff).
    status: Mapped[str] = mapped_column(String(16), default="pending")
    #: online (the sign form) or paper (entered by staff).
    source: Mapped[str] = mapped_column(String(16), default="online")
    #: The name as the signer gave it.
    full_name: Mapped[str] = mapped_column(String(200))
    #: The email as typed, for writing to the signer; NULL for paper without email.
    email: Mapped[str | None] = mapped_column(String(320))
    #: The email reduced to one form per mailbox (lower case, no +tag, Gmail dots
    #: removed): the key that stops duplicates.
    email_normalized: Mapped[str | None] = mapped_column(String(320), index=True)
    #: US ZIP code (5 digits) or NULL for a signer abroad.
    zip_code: Mapped[str | None] = mapped_column(String(10))
    #: City, county and state derived from the ZIP code.
    city: Mapped[str | None] = mapped_column(String(100))
    county: Mapped[str | None] = mapped_column(String(100), index=True)
    state: Mapped[str | None] = mapped_column(String(2))
    #: Country of a signer outside the US (free text, short); NULL for US signers.
    country: Mapped[str | None] = mapped_column(String(100))
    #: Optional comment, 500 characters at most.
    comment: Mapped[str] = mapped_column(Text, default="")
    #: The signer agreed to show their first name and city on the campaign page.
    show_publicly: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The signer agreed to have their first and last name and city delivered to their
    #: legislators (off by default; signatures from before the question are never named).
    deliver_name: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Consent to be emailed updates, and when it was given.
    wants_updates: Mapped[bool] = mapped_column(Boolean, default=False)
    updates_consented_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When the mailbox unsubscribed and so withdrew this consent (an undo restores it).
    updates_withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Language the signer used (for their emails).
    language: Mapped[str] = mapped_column(String(8), default="en")
    #: Keyed hash of the client address (never the address itself); NULL for paper.
    client_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    #: For paper signatures: where they were collected ("Albany lobby day 2026-03-04").
    paper_source: Mapped[str | None] = mapped_column(String(200))
    #: For paper signatures: the staff member who entered them.
    entered_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    invalidated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Why staff invalidated it.
    invalidation_reason: Mapped[str | None] = mapped_column(String(200))
    #: How many confirmation emails were queued for it (limits re-sends).
    confirmation_sends: Mapped[int] = mapped_column(Integer, default=0)
    last_confirmation_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Random, never reused: the emailed links name the record by id and this key, since
    #: SQLite gives a deleted row's id again (NULL on rows made before keys existed).
    link_key: Mapped[str | None] = mapped_column(String(32), default=new_link_key)
    #: Staff hid this name from the public wall; the signature still counts.
    hidden_from_wall: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Where the signer came from, from the address they signed at ("share-whatsapp"):
    #: for staff's counts only, never shown publicly, never trusted for anything else.
    referral: Mapped[str | None] = mapped_column(String(40))
    #: The partner organization whose embedded form took the signature (attribution only).
    partner_id: Mapped[int | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="SET NULL"), index=True
    )
    #: Set when personal data was removed after the retention period.
    anonymized_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    campaign: Mapped[Campaign] = relationship()

    @property
    def first_name(self) -> str:
        """The first word of the name, the most the public wall ever shows."""
        parts = self.full_name.split()
        return parts[0] if parts else ""
