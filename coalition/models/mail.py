"""Outgoing mail, queued in the database so that none is lost when SMTP is down."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from coalition.extensions import db
from coalition.models.types import UTCDateTime, utcnow


class OutgoingMail(db.Model):
    """A message waiting to be sent; deleted once the mail server accepts it."""

    __tablename__ = "outgoing_mail"

    id: Mapped[int] = mapped_column(primary_key=True)
    to_address: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Failed attempts so far, and when to try next (backing off).
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    #: A sender has claimed the message until then, so two processes never send it twice.
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The last error's class and message, without the address.
    last_error: Mapped[str] = mapped_column(String(500), default="")
