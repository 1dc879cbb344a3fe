"""The public face: the home page's featured campaign, milestones, the signer wall."""

from __future__ import annotations

from datetime import timedelta

import pytest

from coalition.extensions import db
from coalition.models import Campaign
from coalition.models.types import utcnow
from coalition.services import campaign_editing
from coalition.services.campaigns import next_milestone
from coalition.templating import percent


@pytest.mark.parametrize(
    ("count", "target", "milestone"),
    [
        (0, 5000, 50),
        (37, 5000, 50),
        (50, 5000, 100),
        (249, 5000, 250),
        (600, 5000, 1000),
        (1000, 5000, 2500),
        (2500, 5000, 5000),
        (4999, 5000, 5000),
        (6000, 5000, 5000),
        (3, 10, 10),
        (12000, 100000, 25000),
    ],
)
def test_the_next_milestone(count, target, milestone):
    assert next_milestone(count, target) == milestone


def test_a_young_campaign_measures_against_its_next_milestone(client, make_campaign, make_signature_row):
    campaign = make_campaign(target=5000)
    for n in range(37):
        make_signature_row(campaign, email=f"s{n}@example.org", status="confirmed")
    html = client.get(f"/campaigns/{campaign.slug}").get_data(as_text=True)
    assert '<progress id="campaign-progress" max="50" value="37"' in html
    assert '37 signatures, next milestone 50. <span class="progress-target">Target: 5,000 signatures</span>' in html
    spanish = client.get(f"/es/campaigns/{campaign.slug}").get_data(as_text=True)
    assert "Objetivo: 5,000 firmas" in spanish


def test_percent_of_target_has_one_decimal_below_one_percent(app):
    with app.test_request_context("/"):
        assert percent(37, 5000) == "0.7%"
        assert percent(0, 5000) == "0%"
        assert percent(2600, 5000) == "52%"
    with app.test_request_context("/es/"):
        assert percent(37, 5000) == "0.7%"


def test_home_leads_with_the_campaign_closest_to_its_deadline(client, make_campaign):
    later = make_campaign(title="Later one", closes_at=utcnow() + timedelta(days=60))
    sooner = make_campaign(title="Sooner one", closes_at=utcnow() + timedelta(days=5))
    html = client.get("/").get_data(as_text=True)
    featured = html[html.index('<section class="featured card"'):]
    featured = featured[: featured.index("</section>")]
    assert "Sooner one" in featured and "Later one" not in featured
    assert f'href="/campaigns/{sooner.slug}#sign"' in featured
    # The others follow below.
    assert html.index("Later one") > html.index("Sooner one")
    assert later.slug in html


def test_staff_choose_the_featured_campaign_one_at_a_time(client, make_campaign, make_staff):
    first = make_campaign(title="First", closes_at=utcnow() + timedelta(days=5))
    second = make_campaign(title="Second", closes_at=utcnow() + timedelta(days=60))
    third = make_campaign(title="Third", closes_at=utcnow() + timedelta(days=90))
    staff = make_staff()
    for chosen in (second, third):
        campaign_editing.update_campaign(
            chosen.id,
            staff.id,
            campaign_editing.CampaignData(
                slug=chosen.slug, title=chosen.title, summary=chosen.summary, body=chosen.body,
                target=chosen.target, opens_at=chosen.opens_at, closes_at=chosen.closes_at,
                goal_slugs=["alternatives-to-incarceration"], featured=True,
            ),
        )
        db.session.commit()
    assert [c.slug for c in db.session.scalars(db.select(Campaign).where(Campaign.featured))] == [third.slug]
    html = client.get("/").get_data(as_text=True)
    assert f'href="/campaigns/{third.slug}#sign"' in html
    assert f'href="/campaigns/{first.slug}#sign"' not in html


def test_home_without_an_open_campaign_says_so(client, content):
    html = client.get("/").get_data(as_text=True)
    assert 'class="featured' not in html
    assert "No campaign is open for signing right now." in html
