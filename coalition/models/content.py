"""The coalition's own content: its goals, beliefs and text blocks, editable by staff."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coalition.extensions import db
from coalition.models.types import UTCDateTime, utcnow


class Goal(db.Model):
    """One of the coalition's six overarching goals; pledges and campaigns refer to it."""

    __tablename__ = "goals"
    __table_args__ = (CheckConstraint("slug <> ''", name="slug_not_empty"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Stable identifier used in URLs and by the content file; never changes once published.
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    #: Order on the home page.
    position: Mapped[int] = mapped_column(Integer, default=0)
    #: Short title ("Stop using incarceration as a response to social problems").
    title: Mapped[str] = mapped_column(String(200))
    #: The goal as the coalition states it, one sentence.
    summary: Mapped[str] = mapped_column(Text)
    #: Longer explanation for the goal's own page; paragraphs separated by blank lines.
    body: Mapped[str] = mapped_column(Text, default="")
    #: Spanish versions; empty means "show the English".
    title_es: Mapped[str] = mapped_column(String(200), default="")
    summary_es: Mapped[str] = mapped_column(Text, default="")
    body_es: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    actions: Mapped[list[PledgeAction]] = relationship(
        back_populates="goal", order_by="PledgeAction.position", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Goal {self.slug}>"


class PledgeAction(db.Model):
    """Something a supporter can pledge to do for a goal (staff edit the list)."""

    __tablename__ = "pledge_actions"
    __table_args__ = (UniqueConstraint("goal_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    goal_id: Mapped[int] = mapped_column(ForeignKey("goals.id", ondelete="CASCADE"), index=True)
    #: Stable identifier within the goal (``contact-legislators``).
    key: Mapped[str] = mapped_column(String(80))
    position: Mapped[int] = mapped_column(Integer, default=0)
    label: Mapped[str] = mapped_column(String(200))
    label_es: Mapped[str] = mapped_column(String(200), default="")
    #: Retired actions stay for the pledges that chose them but are no longer offered.
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    goal: Mapped[Goal] = relationship(back_populates="actions")


class Belief(db.Model):
    """One of the fundamental beliefs that guide the coalition's work."""

    __tablename__ = "beliefs"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Stable identifier, so reloading the content file updates rather than duplicates.
    key: Mapped[str] = mapped_column(String(80), unique=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    text: Mapped[str] = mapped_column(Text)
    text_es: Mapped[str] = mapped_column(Text, default="")


class ContentBlock(db.Model):
    """A named block of the site's text (mission, stigma, coordinator, contact ...)."""

    __tablename__ = "content_blocks"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: ``mission``, ``stigma``, ``coordinator``, ``contact`` ...
    key: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    #: Paragraphs separated by blank lines; shown as plain text, never as HTML.
    body: Mapped[str] = mapped_column(Text, default="")
    title_es: Mapped[str] = mapped_column(String(200), default="")
    body_es: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
