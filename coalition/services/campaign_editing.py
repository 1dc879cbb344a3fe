"""Staff editing of campaigns (text, target, dates, goals, status) and of goals and their pledge actions.

New campaigns go through ``campaigns.create_campaign`` so their counter rows exist.
A slug is the campaign's public address, so it can change only while the campaign is
a draft. Functions flush and record an audit entry; the caller commits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func

from coalition.extensions import db
from coalition.models import Campaign, Goal, PledgeAction
from coalition.models.types import utcnow
from coalition.services import audit_log
from coalition.services import campaigns as campaign_service
from coalition.services.texts import _

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")

#: Which status each staff action leads to, and from which statuses it is allowed.
STATUS_ACTIONS = {
    "open": ({"draft", "closed"}, "open"),
    "close": ({"open"}, "closed"),
    "archive": ({"draft", "closed"}, "archived"),
    "unarchive": ({"archived"}, "closed"),
}


class CampaignError(ValueError):
    """A campaign or goal change the rules refuse; ``field`` names the form field concerned."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


@dataclass
class CampaignData:
    """What a staff member types for a campaign."""

    slug: str
    title: str
    summary: str
    body: str
    target: int
    opens_at: datetime | None = None
    closes_at: datetime | None = None
    title_es: str = ""
    summary_es: str = ""
    body_es: str = ""
    goal_slugs: list[str] = field(default_factory=list)
    #: Lead the home page with it (one campaign at a time).
    featured: bool = False


def _check(data: CampaignData, campaign: Campaign | None) -> None:
    slug = data.slug.strip()
    if not SLUG.match(slug) or len(slug) > 80:
        raise CampaignError(_("Use lower-case letters, digits and hyphens, like fund-alternatives-2027."), "slug")
    if campaign is None or campaign.slug != slug:
        if campaign is not None and campaign.status != "draft":
            raise CampaignError(_("The address of a published campaign cannot change: links to it would break."), "slug")
        taken = db.session.execute(db.select(Campaign.id).where(Campaign.slug == slug)).first()
        if taken is not None:
            raise CampaignError(_("Another campaign already uses this address."), "slug")
    if data.target <= 0:
        raise CampaignError(_("The target must be at least 1."), "target")
    if data.opens_at and data.closes_at and data.closes_at <= data.opens_at:
        raise CampaignError(_("The closing date must be after the opening date."), "closes_at")


def _goals(slugs: list[str]) -> list[Goal]:
    if not slugs:
        return []
    return list(db.session.scalars(db.select(Goal).where(Goal.slug.in_(slugs)).order_by(Goal.position)))


def _set_featured(campaign: Campaign, featured: bool) -> None:
    """Feature ``campaign`` (and no other), or stop featuring it."""
    if featured and not campaign.featured:
        db.session.execute(
            db.update(Campaign).where(Campaign.featured.is_(True)).values(featured=False)
        )
    campaign.featured = featured


def create_campaign(staff_id: int, data: CampaignData) -> Campaign:
    """Create a draft campaign with its counters."""
    _check(data, None)
    campaign = campaign_service.create_campaign(
        slug=data.slug.strip(),
        title=data.title.strip(),
        summary=data.summary.strip(),
        body=data.body.strip(),
        target=data.target,
        status="draft",
        goal_slugs=data.goal_slugs,
        opens_at=data.opens_at,
        closes_at=data.closes_at,
    )
    campaign.title_es, campaign.summary_es, campaign.body_es = (
        data.title_es.strip(),
        data.summary_es.strip(),
        data.body_es.strip(),
    )
    _set_featured(campaign, data.featured)
    audit_log.record("campaign.create", actor_id=staff_id, subject=f"campaign:{campaign.id}", details={"slug": campaign.slug})
    db.session.flush()
    return campaign


def update_campaign(campaign_id: int, staff_id: int, data: CampaignData) -> Campaign:
    """Save a campaign's text, target, dates and goals."""
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        raise CampaignError(_("There is no such campaign."))
    _check(data, campaign)
    campaign.slug = data.slug.strip()
    campaign.title = data.title.strip()
    campaign.summary = data.summary.strip()
    campaign.body = data.body.strip()
    campaign.title_es = data.title_es.strip()
    campaign.summary_es = data.summary_es.strip()
    campaign.body_es = data.body_es.strip()
    campaign.target = data.target
    campaign.opens_at = data.opens_at
    campaign.closes_at = data.closes_at
    campaign.goals = _goals(data.goal_slugs)
    _set_featured(campaign, data.featured)
    audit_log.record("campaign.edit", actor_id=staff_id, subject=f"campaign:{campaign.id}")
    db.session.flush()
    return campaign


def change_status(campaign_id: int, staff_id: int, action: str) -> Campaign:
    """Open, close, archive or unarchive a campaign."""
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None or action not in STATUS_ACTIONS:
        raise CampaignError(_("That change is not possible."))
    allowed_from, status = STATUS_ACTIONS[action]
    if campaign.status not in allowed_from:
        raise CampaignError(_("A campaign that is %(status)s cannot be changed that way.", status=campaign.status))
    previous = campaign.status
    campaign.status = status
    if status == "open":
        campaign.closed_at = None
        if campaign.closes_at and campaign.closes_at <= utcnow():
            # Reopening past the deadline would leave it open but unsignable.
            campaign.closes_at = None
    elif status == "closed" and campaign.closed_at is None:
        campaign.closed_at = utcnow()
    audit_log.record(
        f"campaign.{action}", actor_id=staff_id, subject=f"campaign:{campaign.id}", details={"from": previous}
    )
    db.session.flush()
    return campaign


def all_campaigns() -> list[Campaign]:
    """Every campaign: open, then drafts, then closed, then archived."""
    order = db.case(
        (Campaign.status == "open", 0), (Campaign.status == "draft", 1), (Campaign.status == "closed", 2), else_=3
    )
    return list(db.session.scalars(db.select(Campaign).order_by(order, Campaign.id.desc())))


@dataclass
class GoalData:
    """A goal's text as staff type it."""

    title: str
    summary: str
    body: str = ""
    title_es: str = ""
    summary_es: str = ""
    body_es: str = ""


def update_goal(goal_id: int, staff_id: int, data: GoalData) -> Goal:
    """Save a goal's text (its slug never changes)."""
    goal = db.session.get(Goal, goal_id)
    if goal is None:
        raise CampaignError(_("There is no such goal."))
    if not data.title.strip():
        raise CampaignError(_("The title cannot be empty."), "title")
    if not data.summary.strip():
        raise CampaignError(_("The summary cannot be empty."), "summary")
    for name in ("title", "summary", "body", "title_es", "summary_es", "body_es"):
        setattr(goal, name, getattr(data, name).strip())
    audit_log.record("campaign.goal_edit", actor_id=staff_id, subject=f"goal:{goal.id}")
    db.session.flush()
    return goal


def _action_key(label: str, goal_id: int) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")[:60] or "action"
    key, n = base, 1
    while db.session.execute(
        db.select(PledgeAction.id).where(PledgeAction.goal_id == goal_id, PledgeAction.key == key)
    ).first():
        n += 1
        key = f"{base}-{n}"
    return key


def add_pledge_action(goal_id: int, staff_id: int, label: str, label_es: str = "") -> PledgeAction:
    """Offer a new pledge action for a goal, last in the list."""
    label = label.strip()
    if not label:
        raise CampaignError(_("Write the action."), "label")
    if len(label) > 200 or len(label_es.strip()) > 200:
        raise CampaignError(_("Keep the action under 200 characters."), "label")
    position = db.session.scalar(
        db.select(func.coalesce(func.max(PledgeAction.position), 0)).where(PledgeAction.goal_id == goal_id)
    )
    action = PledgeAction(
        goal_id=goal_id, key=_action_key(label, goal_id), position=position + 1, label=label, label_es=label_es.strip()
    )
    db.session.add(action)
    db.session.flush()
    audit_log.record("campaign.action_add", actor_id=staff_id, subject=f"goal:{goal_id}", details={"action": action.key})
    return action


def update_pledge_action(action_id: int, staff_id: int, label: str, label_es: str, active: bool) -> PledgeAction:
    """Reword a pledge action, or retire it (pledges that chose it keep it)."""
    action = db.session.get(PledgeAction, action_id)
    if action is None:
        raise CampaignError(_("There is no such action."))
    label = label.strip()
    if not label:
        raise CampaignError(_("Write the action."), "label")
    if len(label) > 200 or len(label_es.strip()) > 200:
        raise CampaignError(_("Keep the action under 200 characters."), "label")
    action.label, action.label_es, action.active = label, label_es.strip(), active
    audit_log.record(
        "campaign.action_edit",
        actor_id=staff_id,
        subject=f"goal:{action.goal_id}",
        details={"action": action.key, "active": active},
    )
    db.session.flush()
    return action
