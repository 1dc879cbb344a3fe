"""The campaign page: text, goals, progress, deadline, the wall of signers, sharing, closed campaigns."""

from __future__ import annotations

import re
from datetime import timedelta

from coalition.extensions import db
from coalition.models import Signature
from coalition.models.types import utcnow
from coalition.services import counting
from tests.test_signing import sign_data


def _confirmed(campaign, full_name, email, *, city="Brooklyn", show=True, country=None):
    signature = Signature(
        campaign_id=campaign.id,
        full_name=full_name,
        email=email,
        email_normalized=email,
        zip_code=None if country else "11216",
        city=None if country else city,
        country=country,
        show_publicly=show,
        status="confirmed",
        confirmed_at=utcnow(),
    )
    db.session.add(signature)
    counting.add_to_signature_count(campaign.id, 1)
    db.session.commit()
    return signature


def test_campaign_page_shows_text_goals_progress_and_deadline(client, make_campaign):
    campaign = make_campaign(
        title="Fund alternatives to incarceration",
        summary="Ask the State to fund programs.",
        body="First paragraph.\n\nSecond paragraph.",
        target=250,
        goal_slugs=["alternatives-to-incarceration", "family-and-community-ties"],
        closes_at=utcnow() + timedelta(days=10, hours=2),
    )
    _confirmed(campaign, "Keisha Brown", "keisha@example.org")
    html = client.get(f"/campaigns/{campaign.slug}").get_data(as_text=True)
    assert "<h1" in html and "Fund alternatives to incarceration" in html
    assert "Ask the State to fund programs." in html
    assert "<p>First paragraph.</p>" in html and "<p>Second paragraph.</p>" in html
    assert 'href="/goals/alternatives-to-incarceration"' in html
    assert 'href="/goals/family-and-community-ties"' in html
    # The progress bar, with the number also in text.
    assert '<progress id="campaign-progress" max="50" value="1" aria-describedby="campaign-progress-text">' in html
    assert "1 signature, next milestone 50. <span class=\"progress-target\">Target: 250 signatures</span>" in html
    assert "Deadline:" in html and "10 days left" in html
    # The form, with its fields labelled.
    for name in ("full_name", "email", "zip_code", "country", "comment", "show_publicly", "wants_updates"):
        assert f'for="{name}"' in html and f'id="{name}"' in html
    assert not re.search(r'id="(show_publicly|wants_updates)"[^>]*checked', html)
    assert 'name="homepage"' in html and 'name="form_started"' in html
    assert "block" not in re.findall(r"\{%[^%]*%\}", html)  # no template text leaked


def test_the_wall_shows_first_name_and_city_of_those_who_chose_only(client, make_campaign):
    campaign = make_campaign()
    _confirmed(campaign, "Keisha Marie Brown", "keisha@example.org", city="Brooklyn")
    _confirmed(campaign, "Hidden Person", "hidden@example.org", show=False)
    _confirmed(campaign, "Ana Souza", "ana@example.org", country="Brazil")
    pending = Signature(
        campaign_id=campaign.id, full_name="Pending Signer", email="p@example.org",
        email_normalized="p@example.org", show_publicly=True, city="Albany",
    )
    db.session.add(pending)
    db.session.commit()
    html = client.get(f"/campaigns/{campaign.slug}").get_data(as_text=True)
    wall = re.search(r'<ul class="signer-wall">(.*?)</ul>', html, re.S).group(1)
    assert '<span class="signer-name">Keisha</span> <span class="signer-place">Brooklyn</span>' in wall
    assert '<span class="signer-name">Ana</span> <span class="signer-place">Brazil</span>' in wall
    # Newest first.
    assert wall.index("Ana") < wall.index("Keisha")
    for private in ("Brown", "Marie", "Hidden", "Pending", "@example.org"):
        assert private not in html
    assert "3 signatures, next milestone 50. <span class=\"progress-target\">Target: 100 signatures</span>" in html


def test_no_wall_when_nobody_chose_to_be_shown(client, make_campaign):
    campaign = make_campaign()
    _confirmed(campaign, "Hidden Person", "hidden@example.org", show=False)
    html = client.get(f"/campaigns/{campaign.slug}").get_data(as_text=True)
    assert "signer-wall" not in html and "Hidden" not in html


def test_sharing_links_and_open_graph_without_third_party_script(client, make_campaign):
    campaign = make_campaign(title="Keep families connected", summary="Make visits easier.")
    html = client.get(f"/campaigns/{campaign.slug}").get_data(as_text=True)
    url = f"http://localhost/campaigns/{campaign.slug}"
    assert f'<meta property="og:url" content="{url}">' in html
    assert '<meta property="og:title" content="Keep families connected">' in html
    assert '<meta property="og:description" content="Make visits easier.">' in html
    assert f'<link rel="canonical" href="{url}">' in html
    for start in ("mailto:?", "https://wa.me/?", "https://www.facebook.com/sharer/sharer.php?u=",
                  "https://x.com/intent/post?", "https://bsky.app/intent/compose?"):
        assert f'href="{start}' in html
    # Each service's link names it in ?source=share-<service>, for staff's counts.
    quoted = f"http%3A%2F%2Flocalhost%2Fcampaigns%2F{campaign.slug}%3Fsource%3Dshare-"
    for service in ("email", "whatsapp", "facebook", "x", "bluesky"):
        assert quoted + service in html
    assert f'data-copy="{url}?source=share-link"' in html
    assert f'data-share-url="{url}?source=share-native"' in html
    scripts = re.findall(r"<script[^>]*>", html)
    assert len(scripts) == 1 and re.fullmatch(r'<script src="/static/js/site\.js\?v=[0-9a-f]{12}" defer>', scripts[0])
    assert "<iframe" not in html


def test_a_closed_campaign_shows_when_it_closed_and_its_final_count_and_no_form(client, make_campaign):
    closed = utcnow() - timedelta(days=3)
    campaign = make_campaign(status="closed", closed_at=closed, closes_at=closed)
    for n in range(2):
        _confirmed(campaign, f"Person{n} Surname", f"p{n}@example.org")
    html = client.get(f"/campaigns/{campaign.slug}").get_data(as_text=True)
    assert re.search(r"This campaign closed on \w+ \d+, \d{4} with 2 signatures\.", html)
    assert "<form" not in html.split('<main', 1)[1].split("</main>")[0]
    assert 'name="full_name"' not in html


def test_a_campaign_past_its_deadline_is_closed_too(client, make_campaign):
    campaign = make_campaign(closes_at=utcnow() - timedelta(hours=1))
    html = client.get(f"/campaigns/{campaign.slug}").get_data(as_text=True)
    assert "This campaign closed on" in html and 'name="full_name"' not in html


def test_signing_a_closed_campaign_gets_a_clear_message_and_saves_nothing(client, make_campaign):
    campaign = make_campaign(status="closed", closed_at=utcnow() - timedelta(days=1))
    response = client.post(f"/campaigns/{campaign.slug}", data=sign_data())
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "Your signature was not recorded" in html
    assert "no longer takes signatures" in html
    assert 'class="site-header"' in html and "campaign-title" in html
    assert db.session.execute(db.select(Signature)).first() is None


def test_a_campaign_not_yet_open_says_when_it_opens(client, make_campaign):
    campaign = make_campaign(opens_at=utcnow() + timedelta(days=2))
    html = client.get(f"/campaigns/{campaign.slug}").get_data(as_text=True)
    assert "Signing opens on" in html and 'name="full_name"' not in html
    assert client.post(f"/campaigns/{campaign.slug}", data=sign_data()).status_code == 409


def test_unknown_draft_and_archived_campaigns_are_404(client, make_campaign):
    assert client.get("/campaigns/nope").status_code == 404
    for status in ("draft", "archived"):
        campaign = make_campaign(status=status)
        assert client.get(f"/campaigns/{campaign.slug}").status_code == 404
        assert client.post(f"/campaigns/{campaign.slug}", data=sign_data()).status_code == 404
        assert client.get(f"/campaigns/{campaign.slug}/thanks").status_code == 404


def test_the_page_offers_pledges_for_its_goals_and_the_endorsement_form(client, make_campaign):
    campaign = make_campaign(goal_slugs=["alternatives-to-incarceration", "public-education"])
    html = client.get(f"/campaigns/{campaign.slug}").get_data(as_text=True)
    assert "I also pledge to support" in html
    assert 'value="alternatives-to-incarceration"' in html and 'value="public-education"' in html
    assert 'value="women-leading-change"' not in html
    assert "Organizations that endorse this campaign" in html
    assert "Endorse as an organization" in html
