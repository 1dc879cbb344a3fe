"""Organizations and their endorsements of campaigns."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coalition.extensions import db
from coalition.models.types import UTCDateTime, utcnow
from coalition.tokens import new_link_key

if TYPE_CHECKING:
    from coalition.models.campaigns import Campaign

ORGANIZATION_TYPES = (
    "service-provider",
    "advocacy-group",
    "faith-community",
    "union",
    "legal-services",
    "community-group",
    "academic",
    "other",
)
ENDORSEMENT_STATUSES = ("submitted", "confirmed", "verified", "rejected", "withdrawn")


class Organization(db.Model):
    """An organization, one record across all the campaigns it endorses."""

    __tablename__ = "organizations"
    __table_args__ = (
        CheckConstraint(
            "org_type IN ('service-provider', 'advocacy-group', 'faith-community', 'union', "
            "'legal-services', 'community-group', 'academic', 'other')",
            name="org_type",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The website's host without ``www.``, lower case: how one organization is recognised.
    domain: Mapped[str] = mapped_column(String(253), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    #: http or https address of its website.
    website: Mapped[str] = mapped_column(String(500))
    org_type: Mapped[str] = mapped_column(String(32))
    #: City or county where it works.
    locality: Mapped[str] = mapped_column(String(100), default="")
    #: Its ZIP code (5 digits), which places it in Senate and Assembly districts; NULL if not given.
    zip_code: Mapped[str | None] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    endorsements: Mapped[list[Endorsement]] = relationship(back_populates="organization")
    #: Other websites of the organization that staff added by hand, each with an embed address of its own.
    sites: Mapped[list[PartnerSite]] = relationship(
        back_populates="organization", cascade="all, delete-orphan", order_by="PartnerSite.domain"
    )


class PartnerSite(db.Model):
    """Another website of a partner organization (a second domain, a site on a hosting
    service), added by staff: its own embed address ``/embed/<domain>/...``, which that
    site alone may frame. Signatures through it count for the organization."""

    __tablename__ = "partner_sites"
    __table_args__ = (
        CheckConstraint("scheme IN ('http', 'https')", name="scheme"),
        CheckConstraint("domain = lower(domain)", name="domain_lower_case"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    #: The site's host (and port, if not the default), lower case, without ``www.``: its embed address names it.
    domain: Mapped[str] = mapped_column(String(253), unique=True)
    #: https unless staff gave an http:// address.
    scheme: Mapped[str] = mapped_column(String(5), default="https")
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    organization: Mapped[Organization] = relationship(back_populates="sites")


class Endorsement(db.Model):
    """An organization's endorsement of a campaign.

    submitted -> confirmed (the contact clicked the emailed link) -> verified or
    rejected (by staff); withdrawn by the contact at any time. Only verified
    endorsements with public consent show.
    """

    __tablename__ = "endorsements"
    __table_args__ = (
        UniqueConstraint("organization_id", "campaign_id"),
        CheckConstraint(
            "status IN ('submitted', 'confirmed', 'verified', 'rejected', 'withdrawn')",
            name="status",
        ),
        CheckConstraint("authorized = true", name="authorized"),
        CheckConstraint("length(statement) <= 1000", name="statement_length"),
        CheckConstraint(
            "status <> 'rejected' OR rejection_reason IS NOT NULL", name="rejection_has_reason"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="submitted", index=True)
    #: The person who endorsed on the organization's behalf (never shown publicly).
    contact_name: Mapped[str] = mapped_column(String(200))
    contact_role: Mapped[str] = mapped_column(String(200))
    contact_email: Mapped[str | None] = mapped_column(String(320))
    contact_email_normalized: Mapped[str | None] = mapped_column(String(320), index=True)
    contact_phone: Mapped[str] = mapped_column(String(40), default="")
    #: The organization's statement of support, 1,000 characters at most.
    statement: Mapped[str] = mapped_column(Text, default="")
    #: The contact declared they are authorised to endorse for the organization.
    authorized: Mapped[bool] = mapped_column(Boolean)
    #: Consent to show the organization's name and statement publicly.
    public_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    #: What shows publicly, as edited by staff (defaults to the organization's name / statement).
    display_name: Mapped[str] = mapped_column(String(200), default="")
    display_statement: Mapped[str] = mapped_column(Text, default="")
    #: Staff chose to show on the campaign page how many signed through this partner's embed.
    show_embed_count: Mapped[bool] = mapped_column(Boolean, default=False)
    rejection_reason: Mapped[str | None] = mapped_column(String(500))
    language: Mapped[str] = mapped_column(String(8), default="en")
    client_hash: Mapped[str | None] = mapped_column(String(64))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reviewed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Random, never reused: the emailed links name the record by id and this key, since
    #: SQLite gives a deleted row's id again (NULL on rows made before keys existed).
    link_key: Mapped[str | None] = mapped_column(String(32), default=new_link_key)

    organization: Mapped[Organization] = relationship(back_populates="endorsements")
    campaign: Mapped[Campaign] = relationship()
