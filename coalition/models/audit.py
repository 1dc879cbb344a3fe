"""The audit log: who did what, never containing a supporter's personal data."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from coalition.extensions import db
from coalition.models.types import UTCDateTime, utcnow


class AuditEntry(db.Model):
    """One recorded staff or system action."""

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    #: The staff member who acted; NULL for the system or a command without a user.
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    #: Dotted action name: ``export.signatures``, ``signature.invalidate`` ...
    action: Mapped[str] = mapped_column(String(80), index=True)
    #: What it acted on (``campaign:5``); never an email.
    subject: Mapped[str] = mapped_column(String(200), default="")
    #: Filters, counts and other details, free of personal data.
    details: Mapped[dict] = mapped_column(JSON, default=dict)
