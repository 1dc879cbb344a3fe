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


def test_a_share_links_source_is_recorded_and_staff_see_signatures_by_source(client, make_campaign, make_staff):
    from tests.conftest import login
    from tests.public_forms import sign_data

    from coalition.models import Signature

    campaign = make_campaign(target=100)
    page = client.get(f"/campaigns/{campaign.slug}?source=share-whatsapp").get_data(as_text=True)
    # The form posts back to the same source; the page shows it nowhere else.
    assert f'action="/campaigns/{campaign.slug}?source=share-whatsapp#sign"' in page
    assert page.count("source=share-whatsapp") == 1
    # An unknown source is ignored, not echoed back.
    odd = client.get(f"/campaigns/{campaign.slug}?source=%3Cscript%3E").get_data(as_text=True)
    assert "script%3E" not in odd and "<script>" not in odd
    assert f'action="/campaigns/{campaign.slug}#sign"' in odd

    client.post(f"/campaigns/{campaign.slug}?source=share-whatsapp", data=sign_data(email="w1@example.org"))
    client.post(f"/campaigns/{campaign.slug}?source=share-whatsapp", data=sign_data(email="w2@example.org"))
    client.post(f"/campaigns/{campaign.slug}?source=nonsense", data=sign_data(email="d1@example.org"))
    stored = {s.email: s.referral for s in db.session.scalars(db.select(Signature))}
    assert stored == {"w1@example.org": "share-whatsapp", "w2@example.org": "share-whatsapp", "d1@example.org": None}
    # Staff see them by source; the public page never does.
    public = client.get(f"/campaigns/{campaign.slug}").get_data(as_text=True)
    assert "WhatsApp</a>" in public and "Shared:" not in public
    login(client, make_staff())
    html = client.get(f"/staff/campaigns/{campaign.id}/edit").get_data(as_text=True)
    section = html[html.index('id="sources-heading"'):]
    assert "Shared: WhatsApp</th>" in section and "Directly on the site</th>" in section
    assert section.index("Shared: WhatsApp") < section.index("Directly on the site")
    assert '<td class="num">0</td>\n        <td class="num">2</td>' in section


def test_the_confirmation_page_offers_the_next_steps(client, make_campaign):
    from coalition.models import Goal, Pledge, Signature
    from coalition.services import confirmations

    campaign = make_campaign(
        title="Keep families connected", goal_slugs=["alternatives-to-incarceration", "family-and-community-ties"]
    )
    signature = Signature(campaign_id=campaign.id, full_name="Rosa Parks", email="r@example.org", email_normalized="r@example.org")
    goal = db.session.execute(db.select(Goal).filter_by(slug="alternatives-to-incarceration")).scalar_one()
    pledge = Pledge(goal_id=goal.id, full_name="Rosa Parks", email="r@example.org", email_normalized="r@example.org")
    db.session.add_all([signature, pledge])
    db.session.commit()
    token = confirmations.confirmation_token([signature], [pledge])
    html = client.post(f"/confirm/{token}").get_data(as_text=True)
    assert "Thank you, it is confirmed" in html
    steps = html[html.index('class="next-steps"'):]
    assert "What you can do next for “Keep families connected”" in steps
    # The same share links as the campaign page, with their sources, and the share sheet's button.
    quoted = f"http%3A%2F%2Flocalhost%2Fcampaigns%2F{campaign.slug}%3Fsource%3Dshare-"
    for service in ("email", "whatsapp", "facebook", "x", "bluesky"):
        assert quoted + service in steps
    assert f'data-share-url="http://localhost/campaigns/{campaign.slug}?source=share-native"' in steps
    # Pledging: the campaign's goals this person has not pledged to yet.
    assert 'href="/goals/family-and-community-ties#pledge"' in steps
    assert 'href="/goals/alternatives-to-incarceration#pledge"' not in steps
    # The page is personal: never kept by the page cache (a POST), and in Spanish too.
    spanish = client.get(f"/es/confirm/{token}").get_data(as_text=True)
    assert "Qué más puede hacer por" in spanish


def test_untranslated_content_is_marked_english_on_the_spanish_site(client, make_campaign):
    campaign = make_campaign(title="Only in English", summary="English summary.")
    html = client.get(f"/es/campaigns/{campaign.slug}").get_data(as_text=True)
    assert '<h1 id="campaign-title" lang="en">Only in English</h1>' in html
    assert '<p class="lead" lang="en">English summary.</p>' in html
    campaign.title_es = "Solo en español"
    db.session.commit()
    html = client.get(f"/es/campaigns/{campaign.slug}").get_data(as_text=True)
    assert '<h1 id="campaign-title">Solo en español</h1>' in html
    english = client.get(f"/campaigns/{campaign.slug}").get_data(as_text=True)
    assert '<h1 id="campaign-title">Only in English</h1>' in english


def test_the_demo_content_is_in_spanish_too(app, content):
    from coalition.services.demo import seed_demo

    campaigns = seed_demo()
    db.session.commit()
    assert campaigns and all(c.title_es and c.summary_es and c.body_es for c in campaigns)


def test_the_thank_you_page_after_pledging_links_to_the_development_outbox(client, content):
    from tests.public_forms import pledge_data

    response = client.post("/goals/alternatives-to-incarceration/pledge", data=pledge_data())
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'href="/dev/outbox"' in html
    assert "press “Confirm my pledge”" in html
