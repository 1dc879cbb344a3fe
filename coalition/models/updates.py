"""Updates emailed to consenting supporters, and the mailboxes that asked for none."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from coalition.extensions import db
from coalition.models.types import UTCDateTime, utcnow

UPDATE_STATUSES = ("draft", "queueing", "sending", "sent", "cancelled")


class MailUpdate(db.Model):
    """An update written by staff and emailed to the consenting supporters it names.

    draft (being written) -> queueing (its messages are being written to
    ``outgoing_mail``, batch by batch, in the background) -> sending (all queued, the
    senders drain them) -> sent; cancelled from queueing or sending stops what is left.
    """

    __tablename__ = "mail_updates"
    __table_args__ = (
        CheckConstraint("status IN ('draft', 'queueing', 'sending', 'sent', 'cancelled')", name="status"),
        CheckConstraint("subject <> ''", name="subject_not_empty"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subject: Mapped[str] = mapped_column(String(200))
    #: The text, in the campaign bodies' safe formatting.
    body: Mapped[str] = mapped_column(Text)
    #: The Spanish version; empty where none was written (Spanish speakers then get English).
    subject_es: Mapped[str] = mapped_column(String(200), default="")
    body_es: Mapped[str] = mapped_column(Text, default="")
    #: Who receives it: {"campaigns": [ids], "goals": [ids], "counties": [names]}.
    audience: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    send_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The recipients counted when sending was confirmed.
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    #: Messages written to the queue so far, delivered so far, and removed by a cancel.
    queued_count: Mapped[int] = mapped_column(Integer, default=0)
    sent_count: Mapped[int] = mapped_column(Integer, default=0)
    cancelled_count: Mapped[int] = mapped_column(Integer, default=0)
    #: Recipients are queued in order of normalised email; the last one queued, so a
    #: process that takes over after a restart goes on from there (NULL: none yet).
    queue_cursor: Mapped[str | None] = mapped_column(String(320))


class MailSuppression(db.Model):
    """A mailbox that unsubscribed: updates never go to it without a fresh consent.

    Holds a keyed hash of the normalised email (the key is ``SiteKey`` "suppression",
    not the secret key, so rotating the secret key re-subscribes no one), never the address.
    """

    __tablename__ = "mail_suppressions"

    mailbox_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SiteKey(db.Model):
    """A random key the site generated for itself and keeps whatever the configuration says."""

    __tablename__ = "site_keys"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(String(128))


class MailRateLimit(db.Model):
    """Shared state of a sending rate (bulk mail), so every worker and machine obeys one limit.

    ``next_at`` is the generic cell rate algorithm's theoretical arrival time: each
    message sent moves it on by one interval (60 / per-minute rate seconds).
    """

    __tablename__ = "mail_rate_limits"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    next_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
