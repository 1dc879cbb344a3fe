"""Figures for the staff dashboard."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func

from coalition.extensions import db
from coalition.models import Campaign, Signature
from coalition.services import counting


@dataclass
class CampaignFigures:
    """Where one campaign stands."""

    campaign: Campaign
    confirmed: int = 0
    pending: int = 0
    today: int = 0
    per_day: list[tuple[str, int]] = field(default_factory=list)
    counties: list[tuple[str, int]] = field(default_factory=list)

    @property
    def percent(self) -> int:
        """Progress toward the target, in whole percent (may pass 100)."""
        return int(100 * self.confirmed / self.campaign.target) if self.campaign.target else 0


@dataclass
class Overview:
    """Everything the dashboard shows."""

    campaigns: list[CampaignFigures] = field(default_factory=list)


def overview() -> Overview:
    """The dashboard's figures, campaigns not archived, open ones first."""
    campaigns = list(
        db.session.scalars(
            db.select(Campaign).where(Campaign.status != "archived").order_by(Campaign.status.desc(), Campaign.id.desc())
        )
    )
    counts = counting.signature_counts([c.id for c in campaigns])
    pending = dict(
        db.session.execute(
            db.select(Signature.campaign_id, func.count())
            .where(Signature.status == "pending")
            .group_by(Signature.campaign_id)
        ).all()
    )
    return Overview(
        campaigns=[
            CampaignFigures(campaign=c, confirmed=counts.get(c.id, 0), pending=pending.get(c.id, 0)) for c in campaigns
        ]
    )
