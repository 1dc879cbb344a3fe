"""Reading campaigns for the public pages, and their confirmed counts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import case
from sqlalchemy.orm import joinedload

from coalition.extensions import db
from coalition.models import Campaign, Goal
from coalition.models.types import utcnow
from coalition.services import counting

PUBLIC_STATUSES = ("open", "closed")


def is_signable(campaign: Campaign, now: datetime | None = None) -> bool:
    """Whether the campaign takes signatures now (open, started, deadline not passed)."""
    now = now or utcnow()
    if campaign.status != "open":
        return False
    if campaign.opens_at and campaign.opens_at > now:
        return False
    return not (campaign.closes_at and campaign.closes_at <= now)


def public_campaigns() -> list[Campaign]:
    """Campaigns the public may see: open ones first (soonest deadline first), then closed."""
    order = case((Campaign.status == "open", 0), else_=1)
    stmt = (
        db.select(Campaign)
        .where(Campaign.status.in_(PUBLIC_STATUSES))
        .order_by(order, Campaign.closes_at.is_(None), Campaign.closes_at, Campaign.id.desc())
    )
    return list(db.session.execute(stmt).scalars())


def open_campaigns() -> list[Campaign]:
    """The campaigns open for signing now."""
    return [campaign for campaign in public_campaigns() if is_signable(campaign)]


def featured_campaign(open_ones: list[Campaign]) -> Campaign | None:
    """The campaign the home page leads with: one staff featured, else the open one
    closest to its deadline (``open_ones`` is in public_campaigns' order)."""
    for campaign in open_ones:
        if campaign.featured:
            return campaign
    return open_ones[0] if open_ones else None


def _milestones():
    """50, 100, 250, 500, 1,000, 2,500, 5,000, 10,000 ... without end."""
    yield 50
    scale = 100
    while True:
        yield from (scale, scale * 5 // 2, scale * 5)
        scale *= 10


def next_milestone(count: int, target: int) -> int:
    """The first milestone above ``count``, never past the target; the target once reached,
    so a young campaign's bar measures against something it can fill."""
    for milestone in _milestones():
        if milestone >= target:
            return target
        if milestone > count:
            return milestone
    raise AssertionError("unreachable")  # pragma: no cover


def get_public_campaign(slug: str) -> Campaign | None:
    """The public campaign with this slug, or None (drafts and archived are not public)."""
    # With its goals in the same query: the sign form offers them on every view and POST.
    stmt = (
        db.select(Campaign)
        .where(Campaign.slug == slug, Campaign.status.in_(PUBLIC_STATUSES))
        .options(joinedload(Campaign.goals))
    )
    return db.session.execute(stmt).unique().scalar_one_or_none()


def confirmed_counts(campaign_ids: list[int]) -> dict[int, int]:
    """Confirmed signatures per campaign (from the counters, never by counting rows)."""
    return counting.signature_counts(campaign_ids)


def confirmed_count(campaign: Campaign) -> int:
    """Confirmed signatures of one campaign."""
    return counting.signature_counts([campaign.id])[campaign.id]


def create_campaign(
    *,
    slug: str,
    title: str,
    summary: str,
    target: int,
    body: str = "",
    status: str = "draft",
    goal_slugs: list[str] | tuple[str, ...] = (),
    opens_at: datetime | None = None,
    closes_at: datetime | None = None,
    closed_at: datetime | None = None,
) -> Campaign:
    """Create a campaign with its counter rows; the caller commits."""
    goals = []
    if goal_slugs:
        goals = list(db.session.execute(db.select(Goal).where(Goal.slug.in_(goal_slugs))).scalars())
        missing = set(goal_slugs) - {goal.slug for goal in goals}
        if missing:
            raise ValueError(f"unknown goal slugs: {', '.join(sorted(missing))}")
    campaign = Campaign(
        slug=slug,
        title=title,
        summary=summary,
        body=body,
        target=target,
        status=status,
        opens_at=opens_at,
        closes_at=closes_at,
        closed_at=closed_at,
        goals=goals,
    )
    db.session.add(campaign)
    db.session.flush()
    counting.create_signature_counter(campaign.id)
    db.session.flush()
    return campaign
