"""Demo content for trying the site: campaigns with signatures, pledges and endorsements."""

from __future__ import annotations

import random
from datetime import timedelta

from coalition.extensions import db
from coalition.models import Campaign, Endorsement, Goal, Organization, Pledge, Signature
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
        "title_es": "Financien alternativas al encarcelamiento para las mujeres",
        "summary_es": "Pida al estado de Nueva York que financie programas comunitarios de alternativas al "
        "encarcelamiento para mujeres.",
        "body_es": "Pedimos a la gobernadora y a la Legislatura estatal que financien programas comunitarios y de "
        "rehabilitación como alternativa al encarcelamiento para mujeres en todo el estado de Nueva York.\n\n"
        "Los programas comunitarios mantienen a las mujeres con sus hijos y sus comunidades, y atienden los "
        "problemas que llevan al delito.",
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
        "title_es": "Mantengan unidas a las familias durante el encarcelamiento",
        "summary_es": "Que las visitas, las llamadas y las cartas entre las mujeres en prisión y sus hijos sean "
        "más fáciles y económicas.",
        "body_es": "Los lazos familiares fuertes durante el encarcelamiento ayudan a las mujeres a regresar a casa y "
        "a sus hijos a salir adelante.\n\n"
        "Pedimos al estado que las visitas, las llamadas y la correspondencia sean más fáciles y económicas "
        "para las familias.",
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
        "title_es": "Eliminen las barreras a la vivienda después de salir de prisión",
        "summary_es": "Las mujeres que regresan a casa necesitan un lugar donde vivir. Eliminen las barreras que "
        "les impiden conseguir vivienda.",
        "body_es": "Esta campaña pidió al estado eliminar las barreras a la vivienda para las mujeres que regresan "
        "a casa desde la prisión.",
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
    """Add the demo campaigns (once) with demo signatures, pledges and endorsements; return the campaigns added (the caller commits)."""
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
        campaign.title_es, campaign.summary_es, campaign.body_es = spec["title_es"], spec["summary_es"], spec["body_es"]
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
    if added:
        _seed_pledges(rng, now)
        _seed_endorsements(added[0], now)
    db.session.flush()
    return added


#: Demo organizations: (name, website, type, locality, statement).
DEMO_ORGANIZATIONS = [
    ("Harlem Reentry Circle", "https://reentry-circle.example.org", "service-provider", "Manhattan",
     "We walk beside women coming home. Community programs work where prison does not."),
    ("Brooklyn Faith Alliance", "https://faith-alliance.example.org", "faith-community", "Kings County",
     "Our congregations stand with women and their families."),
]


def _seed_pledges(rng: random.Random, now) -> None:
    """A few confirmed demo pledges for each goal, with counts."""
    for goal in db.session.scalars(db.select(Goal).order_by(Goal.position)):
        actions = [action for action in goal.actions if action.active]
        count = rng.randrange(2, 9)
        for number in range(count):
            zip_code, city, county = rng.choice(DEMO_PLACES)
            email = f"demo{number}.{goal.slug}@example.org"
            pledged = now - timedelta(hours=rng.randrange(2, 24 * 20))
            db.session.add(
                Pledge(
                    goal_id=goal.id,
                    status="confirmed",
                    full_name=f"{rng.choice(DEMO_NAMES)} Demo",
                    email=email,
                    email_normalized=email,
                    zip_code=zip_code,
                    city=city,
                    county=county,
                    state="NY",
                    actions=rng.sample(actions, k=min(len(actions), rng.randrange(1, 3))) if actions else [],
                    created_at=pledged,
                    confirmed_at=pledged + timedelta(minutes=7),
                )
            )
        counting.add_to_pledge_count(goal.id, count)


def _seed_endorsements(campaign: Campaign, now) -> None:
    """One verified demo endorsement shown on the campaign, and one waiting for staff review."""
    for position, (name, website, org_type, locality, statement) in enumerate(DEMO_ORGANIZATIONS):
        domain = website.split("//", 1)[1]
        organization = db.session.execute(db.select(Organization).filter_by(domain=domain)).scalar_one_or_none()
        if organization is None:
            organization = Organization(domain=domain, name=name, website=website, org_type=org_type, locality=locality)
            db.session.add(organization)
        verified = position == 0
        db.session.add(
            Endorsement(
                organization=organization,
                campaign=campaign,
                status="verified" if verified else "confirmed",
                contact_name="Demo Contact",
                contact_role="Director",
                contact_email=f"contact@{domain}",
                contact_email_normalized=f"contact@{domain}",
                statement=statement,
                authorized=True,
                public_consent=True,
                display_name=name,
                display_statement=statement,
                submitted_at=now - timedelta(days=3),
                confirmed_at=now - timedelta(days=3),
                reviewed_at=now - timedelta(days=2) if verified else None,
            )
        )
