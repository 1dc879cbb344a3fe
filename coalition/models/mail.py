"""Outgoing mail, queued in the database so that none is lost when SMTP is down."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from coalition.extensions import db
from coalition.models.types import UTCDateTime, utcnow


class OutgoingMail(db.Model):
    """A message waiting to be sent; deleted once the mail server accepts it."""

    __tablename__ = "outgoing_mail"
    __table_args__ = (
        CheckConstraint("priority IN (0, 1)", name="priority"),
        # Senders look for a priority's due messages; cancelling looks for an update's.
        Index("ix_outgoing_mail_priority_next_attempt_at", "priority", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    to_address: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    #: An HTML alternative to the text (updates), sent as multipart/alternative.
    body_html: Mapped[str | None] = mapped_column(Text)
    #: The From name in the recipient's language, where it differs from ``MAIL_FROM``'s.
    sender_name: Mapped[str | None] = mapped_column(String(200))
    #: The ``List-Unsubscribe`` header (bulk mail); with it goes RFC 8058's one-click header.
    list_unsubscribe: Mapped[str | None] = mapped_column(String(1000))
    #: 0: a person's own message (confirmation, notice), sent at once; 1: bulk (an
    #: update), sent after every 0 and at ``BULK_MAIL_PER_MINUTE``.
    priority: Mapped[int] = mapped_column(Integer, default=0)
    #: The update this message is part of, if any.
    update_id: Mapped[int | None] = mapped_column(ForeignKey("mail_updates.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Failed attempts so far, and when to try next (backing off).
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    #: A sender has claimed the message until then, so two processes never send it twice.
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The last error's class and message, without the address.
    last_error: Mapped[str] = mapped_column(String(500), default="")
