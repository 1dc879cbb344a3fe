"""Figures for the staff dashboard: counts, signatures per day, pledges, endorsements, counties."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from flask import current_app

from sqlalchemy import func

from coalition.extensions import db
from coalition.models import Campaign, Endorsement, Goal, Signature
from coalition.models.types import utcnow
from coalition.services import counting, districts, legislators

#: Days shown in the signatures-per-day chart.
CHART_DAYS = 30


@dataclass
class CampaignFigures:
    """Where one campaign stands."""

    campaign: Campaign
    confirmed: int = 0
    pending: int = 0
    today: int = 0
    endorsements_waiting: int = 0
    #: (day, confirmed that day) for the last ``CHART_DAYS`` days, oldest first.
    per_day: list[tuple[date, int]] = field(default_factory=list)
    #: (county, confirmed signers) in New York State, most first.
    counties: list[tuple[str, int]] = field(default_factory=list)
    #: Confirmed signers outside New York State or without a US ZIP code.
    outside_new_york: int = 0
    #: ("District 12 · legislator", confirmed signers) per Senate and Assembly district, most first.
    senate_districts: list[tuple[str, int]] = field(default_factory=list)
    assembly_districts: list[tuple[str, int]] = field(default_factory=list)
    #: Confirmed New York signers whose Senate or Assembly district is not known (split ZIP, PO box).
    district_unknown: int = 0


@dataclass
class GoalFigures:
    """Confirmed pledges for one goal."""

    goal: Goal
    pledges: int


@dataclass
class Overview:
    """Everything the dashboard shows."""

    campaigns: list[CampaignFigures] = field(default_factory=list)
    goals: list[GoalFigures] = field(default_factory=list)
    endorsements_waiting: int = 0

    @property
    def goal_rows(self) -> list[tuple[str, int]]:
        """(goal title, confirmed pledges) pairs, in the goals' order, for the bar chart."""
        return [(figures.goal.title, figures.pledges) for figures in self.goals]


def _utc_hour_of(column):
    """The UTC hour of a timestamp column as "YYYY-MM-DD HH", the same on SQLite and PostgreSQL.

    New York's offset from UTC is a whole number of hours, so hours add up exactly into
    New York days, whichever dialect counts them.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD HH24")
    return func.strftime("%Y-%m-%d %H", column)


def local_zone() -> ZoneInfo:
    """The coalition's time zone (``COALITION_TIME_ZONE``, New York's)."""
    return ZoneInfo(current_app.config["TIME_ZONE"])


def local_today(now: datetime | None = None) -> date:
    """Today's date in the coalition's time zone."""
    return (now or utcnow()).astimezone(local_zone()).date()


def start_of_local_day(day: date) -> datetime:
    """The UTC moment a day begins in the coalition's time zone."""
    return datetime.combine(day, time.min, tzinfo=local_zone()).astimezone(timezone.utc)


def signatures_per_day(campaign_id: int, days: int = CHART_DAYS, today: date | None = None) -> list[tuple[date, int]]:
    """Confirmed signatures per New York day over the last ``days`` days (days without any included)."""
    today = today or local_today()
    first = today - timedelta(days=days - 1)
    hour = _utc_hour_of(Signature.confirmed_at)
    rows = db.session.execute(
        db.select(hour, func.count())
        .where(
            Signature.campaign_id == campaign_id,
            Signature.status == "confirmed",
            Signature.confirmed_at >= start_of_local_day(first),
            Signature.confirmed_at < start_of_local_day(today + timedelta(days=1)),
        )
        .group_by(hour)
    ).all()
    zone = local_zone()
    counts: dict[date, int] = {}
    for value, n in rows:
        moment = datetime.strptime(str(value), "%Y-%m-%d %H").replace(tzinfo=timezone.utc)
        day = moment.astimezone(zone).date()
        counts[day] = counts.get(day, 0) + n
    return [(first + timedelta(days=i), counts.get(first + timedelta(days=i), 0)) for i in range(days)]


def signers_by_county(campaign_id: int) -> tuple[list[tuple[str, int]], int]:
    """Confirmed signers per New York county (from their ZIP), most first; and those elsewhere."""
    rows = db.session.execute(
        db.select(Signature.county, func.count())
        .where(
            Signature.campaign_id == campaign_id,
            Signature.status == "confirmed",
            Signature.state == "NY",
            Signature.county.is_not(None),
            Signature.county != "",
        )
        .group_by(Signature.county)
    ).all()
    counties = sorted(((county, n) for county, n in rows), key=lambda item: (-item[1], item[0]))
    in_new_york = sum(n for _, n in counties)
    total = db.session.scalar(
        db.select(func.count()).select_from(Signature).where(
            Signature.campaign_id == campaign_id, Signature.status == "confirmed"
        )
    ) or 0
    return counties, max(0, total - in_new_york)


def signers_by_district(campaign_id: int) -> tuple[list[tuple[str, int]], list[tuple[str, int]], int]:
    """Confirmed signers per Senate and per Assembly district, labelled with the legislator, most first.

    Also how many New York signers have a district unknown in either chamber. Estimated
    from ZIP codes (see ``coalition.services.districts``).
    """
    confirmed = (Signature.campaign_id == campaign_id, Signature.status == "confirmed")
    tables = []
    for column in (Signature.senate_district, Signature.assembly_district):
        rows = db.session.execute(
            db.select(column, func.count()).where(*confirmed, column.is_not(None)).group_by(column)
        ).all()
        people = legislators.by_district([district for district, _ in rows])
        labelled = []
        for district, n in rows:
            person = people.get(district)
            label = f"{districts.number_of(district)}" + (f" · {person.name}" if person else "")
            labelled.append((districts.number_of(district), label, n))
        tables.append([(label, n) for _, label, n in sorted(labelled, key=lambda r: (-r[2], r[0]))])
    unknown = db.session.scalar(
        db.select(func.count()).select_from(Signature).where(
            *confirmed,
            Signature.state == "NY",
            (Signature.senate_district.is_(None)) | (Signature.assembly_district.is_(None)),
        )
    ) or 0
    return tables[0], tables[1], unknown


def campaign_figures(campaign: Campaign, confirmed: int | None = None) -> CampaignFigures:
    """The full figures of one campaign."""
    if confirmed is None:
        confirmed = counting.signature_counts([campaign.id])[campaign.id]
    start_of_today = start_of_local_day(local_today())

    def count(*conditions) -> int:
        return db.session.scalar(db.select(func.count()).select_from(Signature).where(*conditions)) or 0

    counties, outside = signers_by_county(campaign.id)
    senate, assembly, unknown = signers_by_district(campaign.id)
    return CampaignFigures(
        campaign=campaign,
        confirmed=confirmed,
        pending=count(Signature.campaign_id == campaign.id, Signature.status == "pending"),
        today=count(
            Signature.campaign_id == campaign.id,
            Signature.status == "confirmed",
            Signature.confirmed_at >= start_of_today,
        ),
        endorsements_waiting=db.session.scalar(
            db.select(func.count()).select_from(Endorsement).where(
                Endorsement.campaign_id == campaign.id, Endorsement.status == "confirmed"
            )
        )
        or 0,
        per_day=signatures_per_day(campaign.id),
        counties=counties,
        outside_new_york=outside,
        senate_districts=senate,
        assembly_districts=assembly,
        district_unknown=unknown,
    )


def overview() -> Overview:
    """The dashboard's figures: campaigns not archived (open ones first), goals, the review queue."""
    order = func.coalesce(
        db.case((Campaign.status == "open", 0), (Campaign.status == "draft", 1), else_=2), 2
    )
    campaigns = list(
        db.session.scalars(db.select(Campaign).where(Campaign.status != "archived").order_by(order, Campaign.id.desc()))
    )
    counts = counting.signature_counts([c.id for c in campaigns])
    goals = list(db.session.scalars(db.select(Goal).order_by(Goal.position)))
    pledges = counting.pledge_counts([g.id for g in goals])
    figures = [campaign_figures(c, counts[c.id]) for c in campaigns]
    return Overview(
        campaigns=figures,
        goals=[GoalFigures(goal=g, pledges=pledges[g.id]) for g in goals],
        endorsements_waiting=db.session.scalar(
            db.select(func.count()).select_from(Endorsement).where(Endorsement.status == "confirmed")
        )
        or 0,
    )
