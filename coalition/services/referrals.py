"""Where signatures come from: share links (``?source=share-<service>``) and partners' embeds.

The source travels in the address a signer arrives at; it is recorded on a new signature
for staff's counts alone, never shown on a public page and never trusted for anything else.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, func

from coalition.extensions import db
from coalition.models import Organization, Signature

#: The services the share links name, in the order the pages list them.
SHARE_SERVICES = ("email", "whatsapp", "facebook", "x", "bluesky", "link", "native")
#: The ``source`` values the site records; anything else is ignored.
REFERRAL_SOURCES = frozenset(f"share-{service}" for service in SHARE_SERVICES)


def clean_referral(value: str | None) -> str | None:
    """The referral named by an address's ``source``, if it is one the site knows; else None."""
    value = (value or "").strip().lower()
    return value if value in REFERRAL_SOURCES else None


@dataclass(frozen=True)
class SourceCount:
    """Signatures of one campaign from one source."""

    #: "direct", "paper", a referral such as "share-whatsapp", or "embed".
    source: str
    #: The partner organization, for an embed.
    partner: str | None
    confirmed: int
    pending: int


def signatures_by_source(campaign_id: int) -> list[SourceCount]:
    """Confirmed and pending signatures of a campaign per source (partners' embeds one by one),
    most confirmed first. Invalidated signatures are left out."""
    source = case(
        (Signature.source == "paper", "paper"),
        (Signature.partner_id.is_not(None), "embed"),
        (Signature.referral.is_not(None), Signature.referral),
        else_="direct",
    ).label("kind")
    confirmed = func.sum(case((Signature.status == "confirmed", 1), else_=0))
    pending = func.sum(case((Signature.status == "pending", 1), else_=0))
    rows = db.session.execute(
        db.select(source, Organization.name, confirmed, pending)
        .outerjoin(Organization, Organization.id == Signature.partner_id)
        .where(Signature.campaign_id == campaign_id, Signature.status != "invalidated")
        .group_by(source, Organization.name)
    )
    counts = [SourceCount(kind, name, int(c or 0), int(p or 0)) for kind, name, c, p in rows]
    return sorted(counts, key=lambda row: (-row.confirmed, -row.pending, row.source, row.partner or ""))


def confirmed_through_partner(campaign_id: int, organization_id: int) -> int:
    """Confirmed signatures a partner's embed brought to a campaign."""
    return db.session.scalar(
        db.select(func.count())
        .select_from(Signature)
        .where(
            Signature.campaign_id == campaign_id,
            Signature.partner_id == organization_id,
            Signature.status == "confirmed",
        )
    ) or 0
