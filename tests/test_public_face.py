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


@pytest.mark.parametrize(
    "full_name",
    [
        "=HYPERLINK(x) Smith",
        "a+b Jones",
        "me@example.org",
        "https://spam.example",
        "HTTP://SPAM",
        "www.spam.example",
        "12345 Lee",
        "A" * 31,
    ],
)
def test_a_name_that_is_not_a_name_is_left_off_the_wall_but_counts(client, make_campaign, make_signature_row, full_name):
    campaign = make_campaign(target=100)
    make_signature_row(campaign, full_name=full_name, email="odd@example.org", show_publicly=True)
    make_signature_row(campaign, full_name="Rosa Díaz", email="rosa@example.org", show_publicly=True)
    html = client.get(f"/campaigns/{campaign.slug}").get_data(as_text=True)
    assert html.count('<span class="signer-name">') == 1
    assert '<span class="signer-name">Rosa</span>' in html
    assert "2 signatures, next milestone 50." in html


def test_names_the_wall_keeps(app):
    from coalition.services.signing import shown_on_wall

    assert all(shown_on_wall(name) for name in ("Rosa", "María-José", "O'Brien", "A" * 30, "Wwwendy", "R2"))


def test_staff_hide_one_name_from_the_wall_without_invalidating_it(client, make_campaign, make_signature_row, make_staff):
    from tests.conftest import login

    from coalition.models import AuditEntry, Signature

    campaign = make_campaign(target=100)
    hidden = make_signature_row(campaign, full_name="Troll Name", email="t@example.org", show_publicly=True)
    make_signature_row(campaign, full_name="Rosa Díaz", email="rosa@example.org", show_publicly=True)
    staff = make_staff()
    login(client, staff)
    listing = client.get("/staff/signatures").get_data(as_text=True)
    assert f'action="/staff/signatures/{hidden.id}/wall"' in listing
    done = client.post(f"/staff/signatures/{hidden.id}/wall", data={"action": "hide"}, follow_redirects=True)
    assert "The name is hidden from the wall; the signature still counts." in done.get_data(as_text=True)
    stored = db.session.get(Signature, hidden.id)
    assert stored.hidden_from_wall is True and stored.status == "confirmed"
    public = client.application.test_client()
    page = public.get(f"/campaigns/{campaign.slug}").get_data(as_text=True)
    assert "Troll" not in page and '<span class="signer-name">Rosa</span>' in page
    assert "2 signatures, next milestone 50." in page
    entry = db.session.scalars(db.select(AuditEntry).filter_by(action="signature.wall_hide")).one()
    assert entry.subject == f"signature:{hidden.id}" and entry.actor_id == staff.id
    client.post(f"/staff/signatures/{hidden.id}/wall", data={"action": "show"})
    assert '<span class="signer-name">Troll</span>' in public.get(f"/campaigns/{campaign.slug}").get_data(as_text=True)


def test_the_signatures_page_lists_the_latest_before_any_search(client, make_campaign, make_signature_row, make_staff):
    from tests.conftest import login

    campaign = make_campaign(target=100)
    for n in range(52):
        make_signature_row(campaign, full_name=f"Person {n:02d}", email=f"p{n}@example.org", created_at=utcnow() - timedelta(minutes=100 - n))
    login(client, make_staff())
    first = client.get("/staff/signatures").get_data(as_text=True)
    assert "Latest signatures" in first
    assert first.count('data-label="Email">p') == 50
    assert "Person 51" in first and "Person 01" not in first
    assert 'href="/staff/signatures?page=2"' in first
    second = client.get("/staff/signatures?page=2").get_data(as_text=True)
    assert second.count('data-label="Email">p') == 2
    assert "Person 01" in second and "Person 00" in second
    assert 'href="/staff/signatures?page=1"' in second and "page=3" not in second
