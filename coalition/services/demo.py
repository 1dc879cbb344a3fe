"""Demo content for trying the site: campaigns with a few signatures."""

from __future__ import annotations

import random
from datetime import timedelta

from coalition.extensions import db
from coalition.models import Campaign, Signature
from coalition.models.types import utcnow
from coalition.services import campaigns as campaign_service
from coalition.services import counting

DEMO_CAMPAIGNS = [
    {
        "slug": "alternatives-not-prison",
        "title": "Fund alternatives to incarceration for women",
        "summary": "Ask New York State to fund community-based alternative-to-incarceration programs for women.",
        "body": "We call on the Governor and the State Legislature to fund rehabilitative, community-based "
        "alternative-to-incarceration programs for women across New York State.\n\n"
        "Community-based programs keep women with their children and their communities, and address the "
        "problems that drive crime.",
        "target": 5000,
        "goal_slugs": ["alternatives-to-incarceration", "family-and-community-ties"],
        "days_left": 45,
        "signatures": 37,
    },
    {
        "slug": "keep-families-connected",
        "title": "Keep families connected during incarceration",
        "summary": "Make visits, calls and letters between women in prison and their children easier and affordable.",
        "body": "Strong family ties during incarceration help women come home and help their children thrive.\n\n"
        "We ask the State to make visiting, phone calls and correspondence easier and affordable for families.",
        "target": 2500,
        "goal_slugs": ["family-and-community-ties", "conditions-and-reentry"],
        "days_left": 20,
        "signatures": 12,
    },
    {
        "slug": "reentry-housing-2025",
        "title": "Remove barriers to housing after release",
        "summary": "Women coming home need a place to live. Remove the barriers that keep them from housing.",
        "body": "This campaign asked the State to remove barriers to housing for women returning home from prison.",
        "target": 1000,
        "goal_slugs": ["conditions-and-reentry"],
        "closed_days_ago": 30,
        "signatures": 8,
    },
]

DEMO_NAMES = ["Maria", "Keisha", "Ana", "Denise", "Rosa", "Tanya", "Lucia", "Grace", "Yolanda", "Carmen"]
DEMO_PLACES = [
    ("10027", "New York", "New York County"),
    ("11216", "Brooklyn", "Kings County"),
    ("10451", "Bronx", "Bronx County"),
    ("12203", "Albany", "Albany County"),
    ("14620", "Rochester", "Monroe County"),
]


def seed_demo(rng: random.Random | None = None) -> list[Campaign]:
    """Add the demo campaigns (once) with confirmed demo signatures; return those added."""
    rng = rng or random.Random(2026)
    now = utcnow()
    added = []
    for spec in DEMO_CAMPAIGNS:
        if db.session.execute(db.select(Campaign.id).filter_by(slug=spec["slug"])).first():
            continue
        if "closed_days_ago" in spec:
            closed = now - timedelta(days=spec["closed_days_ago"])
            extra = {"status": "closed", "closes_at": closed, "closed_at": closed, "opens_at": closed - timedelta(days=90)}
        else:
            extra = {"status": "open", "opens_at": now - timedelta(days=10), "closes_at": now + timedelta(days=spec["days_left"])}
        campaign = campaign_service.create_campaign(
            slug=spec["slug"],
            title=spec["title"],
            summary=spec["summary"],
            body=spec["body"],
            target=spec["target"],
            goal_slugs=spec["goal_slugs"],
            **extra,
        )
        for number in range(spec["signatures"]):
            name = rng.choice(DEMO_NAMES)
            zip_code, city, county = rng.choice(DEMO_PLACES)
            signed = (extra["opens_at"]) + timedelta(hours=rng.randrange(1, 24 * 9))
            email = f"demo{number}.{campaign.slug}@example.org"
            db.session.add(
                Signature(
                    campaign=campaign,
                    status="confirmed",
                    full_name=f"{name} Demo",
                    email=email,
                    email_normalized=email,
                    zip_code=zip_code,
                    city=city,
                    county=county,
                    state="NY",
                    show_publicly=rng.random() < 0.6,
                    created_at=signed,
                    confirmed_at=signed + timedelta(minutes=5),
                )
            )
        counting.add_to_signature_count(campaign.id, spec["signatures"])
        added.append(campaign)
    db.session.commit()
    return added
