"""New York's legislative districts, how ZIP code areas overlap them, and its legislators.

Districts and legislators are loaded by commands from public files (the Census Bureau's
ZCTA relationship files, Open States' people data) and are identified as those files
identify them: a district by its OCD id, a person or committee by its Open States id.
A signature keeps its districts as OCD ids, not foreign keys, because districts are
reloaded whole when they are redrawn while signatures stay.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Float,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coalition.extensions import db
from coalition.models.types import UTCDateTime, utcnow

CHAMBERS = ("upper", "lower")
#: A legislator's seat: a chamber, or the Governor (for petitions addressed to the Governor).
SEATS = ("upper", "lower", "governor")
#: Who set a signature's districts: derived from its ZIP code, chosen by the signer, or by staff.
DISTRICT_SETTERS = ("zip", "signer", "staff")


class District(db.Model):
    """A Senate (upper) or Assembly (lower) district."""

    __tablename__ = "districts"
    __table_args__ = (
        CheckConstraint("chamber IN ('upper', 'lower')", name="chamber"),
        CheckConstraint("number > 0", name="number_positive"),
    )

    #: ``ocd-division/country:us/state:ny/sldu:12`` (Senate) or ``.../sldl:12`` (Assembly).
    ocd_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    chamber: Mapped[str] = mapped_column(String(8))
    number: Mapped[int] = mapped_column(Integer)
    #: The Census name, e.g. "State Senate District 12".
    name: Mapped[str] = mapped_column(String(100))


class ZipDistrict(db.Model):
    """How much of one ZIP code area's land lies in one district."""

    __tablename__ = "zip_districts"
    __table_args__ = (CheckConstraint("land_share >= 0 AND land_share <= 1", name="share_range"),)

    #: The ZIP Code Tabulation Area (five digits; PO box ZIP codes have none).
    zcta: Mapped[str] = mapped_column(String(5), primary_key=True)
    district_ocd_id: Mapped[str] = mapped_column(
        ForeignKey("districts.ocd_id", ondelete="CASCADE"), primary_key=True, index=True
    )
    #: Share of the ZIP area's land inside the district (0..1): land, not population.
    land_share: Mapped[float] = mapped_column(Float)


class DataLoad(db.Model):
    """One run of load-districts or load-legislators: when, from what, and what it changed."""

    __tablename__ = "data_loads"
    __table_args__ = (CheckConstraint("kind IN ('districts', 'legislators')", name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: The file or folder names given (no directories).
    source: Mapped[str] = mapped_column(String(500), default="")
    #: The command's report, as it printed it.
    summary: Mapped[str] = mapped_column(Text, default="")


committee_members = Table(
    "committee_members",
    db.metadata,
    Column("committee_id", ForeignKey("committees.id", ondelete="CASCADE"), primary_key=True),
    Column("legislator_id", ForeignKey("legislators.id", ondelete="CASCADE"), primary_key=True),
)


class Legislator(db.Model):
    """A member of the Senate or Assembly, or the Governor, as Open States lists them."""

    __tablename__ = "legislators"
    __table_args__ = (CheckConstraint("seat IN ('upper', 'lower', 'governor')", name="seat"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: ``ocd-person/<uuid>``: the key a reload updates by.
    openstates_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    seat: Mapped[str] = mapped_column(String(16))
    #: The district's OCD id (NULL for the Governor).
    district_ocd_id: Mapped[str | None] = mapped_column(String(64), index=True)
    party: Mapped[str] = mapped_column(String(100), default="")
    email: Mapped[str] = mapped_column(String(320), default="")
    #: Their official page.
    url: Mapped[str] = mapped_column(String(500), default="")
    #: Offices: ``[{"kind": "capitol"|"district", "address": ..., "phone": ...}]``.
    offices: Mapped[list] = mapped_column(JSON, default=list)
    #: False once a reload no longer lists them (kept: delivered packets name them).
    current: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    #: Set when staff corrected the contact details by hand; a reload keeps them then.
    corrected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    committees: Mapped[list[Committee]] = relationship(secondary=committee_members, back_populates="members")

    @property
    def district_number(self) -> int | None:
        """The district's number, from its OCD id."""
        if not self.district_ocd_id:
            return None
        return int(self.district_ocd_id.rsplit(":", 1)[1])

    def offices_of(self, kind: str) -> list[dict]:
        """Its offices of one kind (capitol or district)."""
        return [office for office in self.offices or [] if office.get("kind") == kind]

    @property
    def phone(self) -> str:
        """The first phone listed: the Capitol office's, else a district office's."""
        for office in [*self.offices_of("capitol"), *self.offices_of("district")]:
            if office.get("phone"):
                return office["phone"]
        return ""


class Committee(db.Model):
    """A legislative committee (from Open States' committee files)."""

    __tablename__ = "committees"

    id: Mapped[int] = mapped_column(primary_key=True)
    openstates_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    #: upper, lower, or legislature (joint).
    chamber: Mapped[str] = mapped_column(String(16))
    current: Mapped[bool] = mapped_column(Boolean, default=True)

    members: Mapped[list[Legislator]] = relationship(
        secondary=committee_members, back_populates="committees", order_by="Legislator.name"
    )

    @property
    def label(self) -> str:
        """Its name with its chamber."""
        chamber = {"upper": "Senate", "lower": "Assembly"}.get(self.chamber, "Legislature")
        return f"{chamber}: {self.name}"


class SignerDistricts:
    """Columns for a signer's Senate and Assembly districts (signatures and pledges)."""

    #: The Senate district's OCD id, when known.
    senate_district: Mapped[str | None] = mapped_column(String(64), index=True)
    #: The Assembly district's OCD id, when known.
    assembly_district: Mapped[str | None] = mapped_column(String(64), index=True)
    #: When the ZIP code area is split: the districts it may be in (OCD ids), else [].
    senate_candidates: Mapped[list] = mapped_column(JSON, default=list)
    assembly_candidates: Mapped[list] = mapped_column(JSON, default=list)
    #: zip (derived, re-derived on reload), signer (chosen on the confirmation page) or staff.
    districts_set_by: Mapped[str] = mapped_column(String(8), default="zip")


#: The check each table using ``SignerDistricts`` adds to its ``__table_args__``.
DISTRICTS_SET_BY_CHECK = "districts_set_by IN ('zip', 'signer', 'staff')"
