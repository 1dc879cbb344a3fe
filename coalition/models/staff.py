"""Staff accounts."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from coalition.extensions import db
from coalition.models.types import UTCDateTime, utcnow

STAFF_ROLES = ("admin", "organizer")


class StaffUser(UserMixin, db.Model):
    """A member of staff: an admin (also manages accounts) or an organizer."""

    __tablename__ = "staff_users"
    __table_args__ = (CheckConstraint("role IN ('admin', 'organizer')", name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Lower-cased login email.
    email: Mapped[str] = mapped_column(String(320), unique=True)
    #: argon2id hash; never the password.
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default="organizer")
    #: Disabled accounts cannot log in; their sessions end at the next request.
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: Changes whenever the password changes, which ends the account's other sessions.
    session_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def is_active(self) -> bool:  # Flask-Login asks this
        """Whether the account may be logged in."""
        return self.active

    @property
    def is_admin(self) -> bool:
        """Whether the account has the admin role."""
        return self.role == "admin"

    def get_id(self) -> str:
        """Session identifier: id and session version, so a password change logs out others."""
        return f"{self.id}:{self.session_version}"
