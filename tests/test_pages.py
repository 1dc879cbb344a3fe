"""Every public page answers and shows the coalition's content."""

import pytest

from coalition.services.content import goals_in_order

PUBLIC_PAGES = ["/", "/campaigns", "/about", "/contact", "/privacy", "/accessibility"]


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_public_page_answers(client, content, path):
    response = client.get(path)
    assert response.status_code == 200
    assert b'<main id="main"' in response.data
    assert b'href="#main"' in response.data  # skip link


def test_home_shows_all_six_goals_with_links(client, content):
    goals = goals_in_order()
    assert len(goals) == 6
    html = client.get("/").get_data(as_text=True)
    # Compact: each goal's title links to its page, with its pledge count beside it.
    for goal in goals:
        assert f'<a class="goal-item-title" href="/goals/{goal.slug}">{goal.title}</a>' in html
    assert html.count('<span class="goal-item-count">0 pledges</span>') == 6


def test_home_shows_mission_beliefs_and_how_to_get_involved(client, content):
    html = client.get("/").get_data(as_text=True)
    assert "statewide alliance of over 1,700 individuals and 100 organizations" in html
    assert "alternative-to-incarceration programs over imprisonment" in html
    assert "removing the stigma assigned to incarcerated women" in html
    assert "212-254-5700" in html


def test_each_goal_has_its_own_page(client, content):
    for goal in goals_in_order():
        response = client.get(f"/goals/{goal.slug}")
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        assert goal.title.replace("’", "&#8217;") in html or goal.title in html
        assert goal.summary in html


def test_unknown_goal_is_404_in_the_sites_look(client, content):
    response = client.get("/goals/not-a-goal")
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)


def test_home_lists_open_campaigns_only(client, make_campaign):
    make_campaign(title="An open one")
    make_campaign(title="A closed one", status="closed")
    make_campaign(title="A draft", status="draft")
    html = client.get("/").get_data(as_text=True)
    assert "An open one" in html
    assert "A closed one" not in html
    assert "A draft" not in html


def test_campaign_list_shows_open_then_closed_never_drafts(client, make_campaign):
    make_campaign(title="Closed campaign", status="closed")
    make_campaign(title="Open campaign")
    make_campaign(title="Draft campaign", status="draft")
    make_campaign(title="Archived campaign", status="archived")
    html = client.get("/campaigns").get_data(as_text=True)
    assert html.index("Open campaign") < html.index("Closed campaign")
    assert "Draft campaign" not in html
    assert "Archived campaign" not in html


def test_draft_campaign_page_is_not_public(client, make_campaign):
    campaign = make_campaign(status="draft")
    assert client.get(f"/campaigns/{campaign.slug}").status_code == 404


def test_privacy_notice_says_what_why_how_long_and_how_to_erase(client, content):
    html = client.get("/privacy").get_data(as_text=True)
    for phrase in ("What we collect", "Why we collect it", "How long we keep it", "erase"):
        assert phrase in html


def test_the_old_language_switch_redirects_to_the_page_in_that_language(client, content):
    response = client.get("/language/es?next=/about")
    assert response.status_code == 302
    assert response.headers["Location"] == "/es/about"
    assert "Set-Cookie" not in response.headers
    html = client.get("/es/about").get_data(as_text=True)
    assert '<html lang="es">' in html


def test_language_switch_refuses_offsite_next(client, content):
    response = client.get("/language/en?next=https://evil.example/")
    assert response.headers["Location"] == "/"


def test_the_address_alone_chooses_the_language_not_the_browser_or_a_cookie(client, content):
    client.set_cookie("lang", "es")
    response = client.get("/", headers={"Accept-Language": "es-US,es;q=0.9"})
    html = response.get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "Vary" not in response.headers
    assert 'href="/es/" hreflang="es" lang="es">Español</a>' in html
    assert '<html lang="es">' in client.get("/es/").get_data(as_text=True)


def test_health_probes(client):
    assert client.get("/healthz").json == {"status": "ok"}
    assert client.get("/readyz").json == {"status": "ok"}
