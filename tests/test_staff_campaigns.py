"""Campaign and goal editing, the safe body formatting, and the dashboard's figures."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from tests.conftest import login

from coalition.extensions import db
from coalition.formatting import render_campaign_body
from coalition.models import AuditEntry, Campaign, Goal, PledgeAction, Signature
from coalition.models.types import utcnow
from coalition.services import campaigns as campaign_service
from coalition.services import counting


@pytest.fixture
def staff_client(client, make_staff, content):
    staff = make_staff()
    login(client, staff)
    client.staff = staff
    return client


def campaign_form(**values) -> dict:
    data = {
        "title": "Fund reentry housing",
        "slug": "reentry-housing-2027",
        "summary": "Homes for women coming home.",
        "body": "We ask the State to **fund** housing.\n\n- one\n- two",
        "target": "2500",
        "opens_on": "2027-01-10",
        "closes_on": "2027-03-31",
        "goals": ["conditions-and-reentry"],
        "action": "save",
    }
    data.update(values)
    return data


def test_create_preview_edit_and_publish_a_campaign(staff_client):
    preview = staff_client.post("/staff/campaigns/new", data=campaign_form(action="preview"))
    html = preview.get_data(as_text=True)
    assert "Preview: not saved yet" in html and "<strong>fund</strong>" in html and "<li>one</li>" in html
    assert db.session.scalar(db.select(Campaign)) is None
    saved = staff_client.post("/staff/campaigns/new", data=campaign_form())
    assert saved.status_code == 302
    campaign = db.session.scalar(db.select(Campaign))
    assert campaign.status == "draft" and campaign.target == 2500
    # New York days: midnight of January 10 (EST) and the end of March 31 (EDT, after the clocks change).
    assert campaign.opens_at.isoformat().startswith("2027-01-10T05:00")
    assert campaign.closes_at.isoformat().startswith("2027-04-01T04:00")
    assert [g.slug for g in campaign.goals] == ["conditions-and-reentry"]
    assert counting.signature_counts([campaign.id])[campaign.id] == 0  # its counters exist
    # The edit form shows the dates as typed.
    edit_html = staff_client.get(f"/staff/campaigns/{campaign.id}/edit").get_data(as_text=True)
    assert 'value="2027-01-10"' in edit_html and 'value="2027-03-31"' in edit_html
    assert re.search(r'<input checked[^>]*value="conditions-and-reentry"', edit_html)
    assert not re.search(r'<input checked[^>]*value="alternatives-to-incarceration"', edit_html)
    # Opening it makes it public, and then its address is fixed.
    staff_client.post(f"/staff/campaigns/{campaign.id}/status", data={"action": "open"})
    db.session.expire_all()
    assert db.session.get(Campaign, campaign.id).status == "open"
    moved = staff_client.post(f"/staff/campaigns/{campaign.id}/edit", data=campaign_form(slug="new-address"))
    assert "cannot change" in moved.get_data(as_text=True)
    staff_client.post(f"/staff/campaigns/{campaign.id}/edit", data=campaign_form(target="3000", title="Fund housing now"))
    db.session.expire_all()
    campaign = db.session.get(Campaign, campaign.id)
    assert campaign.target == 3000 and campaign.title == "Fund housing now"
    # Closing asks to confirm first; nothing changes until then.
    asked = staff_client.post(f"/staff/campaigns/{campaign.id}/status", data={"action": "close"})
    assert asked.status_code == 200 and "Close “Fund housing now”?" in asked.get_data(as_text=True)
    assert 'name="confirmed" value="yes"' in asked.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Campaign, campaign.id).closed_at is None
    staff_client.post(f"/staff/campaigns/{campaign.id}/status", data={"action": "close", "confirmed": "yes"})
    db.session.expire_all()
    assert db.session.get(Campaign, campaign.id).closed_at is not None
    refused = staff_client.post(
        f"/staff/campaigns/{campaign.id}/status", data={"action": "close", "confirmed": "yes"}, follow_redirects=True
    )
    assert "cannot be changed that way" in refused.get_data(as_text=True)
    asked = staff_client.post(f"/staff/campaigns/{campaign.id}/status", data={"action": "archive"})
    assert "Archive “Fund housing now”?" in asked.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Campaign, campaign.id).status == "closed"
    staff_client.post(f"/staff/campaigns/{campaign.id}/status", data={"action": "archive", "confirmed": "yes"})
    db.session.expire_all()
    assert db.session.get(Campaign, campaign.id).status == "archived"
    actions = sorted(db.session.scalars(db.select(AuditEntry.action).where(AuditEntry.action.like("campaign.%"))))
    assert actions == ["campaign.archive", "campaign.close", "campaign.create", "campaign.edit", "campaign.open"]


def test_campaign_form_explains_every_mistake(staff_client, make_campaign):
    make_campaign(slug="taken")
    response = staff_client.post(
        "/staff/campaigns/new",
        data=campaign_form(slug="Not A Slug!", target="0", title="", closes_on="2027-01-01"),
    )
    html = response.get_data(as_text=True)
    assert "Give the campaign a title." in html
    assert "The target must be at least 1." in html
    taken = staff_client.post("/staff/campaigns/new", data=campaign_form(slug="taken")).get_data(as_text=True)
    assert "Another campaign already uses this address." in taken
    bad_slug = staff_client.post("/staff/campaigns/new", data=campaign_form(slug="Not A Slug!")).get_data(as_text=True)
    assert "Use lower-case letters, digits and hyphens" in bad_slug
    backwards = staff_client.post("/staff/campaigns/new", data=campaign_form(closes_on="2027-01-01")).get_data(as_text=True)
    assert "The closing date must be after the opening date." in backwards
    assert 'value="Fund reentry housing"' in backwards  # what was typed is kept


def test_the_body_formatting_cannot_carry_script():
    html = str(
        render_campaign_body(
            "<script>alert(1)</script>\n\n[x](javascript:alert(1)) [ok](https://example.org/?a=1&b=2)"
            ' <img src=x onerror=alert(1)> **bold** *it*\n\n- [y](https://e.org/"onmouseover=alert(1))'
        )
    )
    assert "<script" not in html and "<img" not in html and "javascript:" not in html.replace("[x](javascript:", "")
    assert '<a href="javascript' not in html
    assert '<a href="https://example.org/?a=1&amp;b=2" rel="nofollow noopener">ok</a>' in html
    assert "&lt;script&gt;" in html and "<strong>bold</strong>" in html and "<em>it</em>" in html
    assert 'href="https://e.org/&#34;onmouseover=alert(1"' in html  # the quote cannot close the attribute


def test_goal_text_and_pledge_actions_are_editable(staff_client):
    goal = db.session.scalar(db.select(Goal).order_by(Goal.position))
    response = staff_client.post(
        f"/staff/goals/{goal.id}",
        data={"title": "A clearer title", "summary": "A clearer summary.", "body": "", "title_es": "Un título"},
    )
    assert response.status_code == 302
    empty = staff_client.post(f"/staff/goals/{goal.id}", data={"title": "", "summary": "x"})
    assert "The title cannot be empty." in empty.get_data(as_text=True)
    staff_client.post(f"/staff/goals/{goal.id}/actions", data={"new-label": "Host a house meeting", "new-label_es": "Organizar"})
    added = db.session.scalar(db.select(PledgeAction).filter_by(goal_id=goal.id, label="Host a house meeting"))
    assert added.key == "host-a-house-meeting" and added.active
    staff_client.post(f"/staff/goals/actions/{added.id}", data={f"a{added.id}-label": "Host a meeting at home"})
    db.session.expire_all()
    added = db.session.get(PledgeAction, added.id)
    assert added.label == "Host a meeting at home" and added.active is False  # unticked: retired
    goal = db.session.get(Goal, goal.id)
    assert goal.title == "A clearer title" and goal.title_es == "Un título"
    page = staff_client.get(f"/staff/goals/{goal.id}").get_data(as_text=True)
    assert "Host a meeting at home" in page


def test_dashboard_shows_counts_days_pledges_and_counties(staff_client, make_campaign, make_signature_row):
    campaign = make_campaign(title="Keep families connected", target=10)
    now = utcnow()
    make_signature_row(campaign, zip_code="11216")
    make_signature_row(campaign, zip_code="11216")
    make_signature_row(campaign, zip_code="12203", confirmed_at=now - timedelta(days=3))
    make_signature_row(campaign, zip_code=None, country="Canada")
    make_signature_row(campaign, status="pending")
    html = staff_client.get("/staff/").get_data(as_text=True)
    assert "Keep families connected" in html
    assert "<dt>Confirmed</dt><dd>4</dd>" in html
    assert "<dt>Pending</dt><dd>1</dd>" in html
    assert "<dt>Today (New York)</dt><dd>3</dd>" in html
    assert "<dt>Of target</dt><dd>40%</dd>" in html
    assert '<th scope="row">Kings County</th><td class="num">2</td>' in html
    assert '<th scope="row">Albany County</th><td class="num">1</td>' in html
    assert "Outside New York State or without a ZIP code: 1" in html
    assert html.count('class="chart-bar') == 30
    assert "<svg" in html and "Pledges per goal" in html
    # The chart is drawn on the server: no script or style sheet from another host, no inline style.
    assert _foreign_hosts(html) == [] and "style=" not in html


def _foreign_hosts(html: str) -> list[str]:
    """The addresses of scripts and style sheets the page loads from anywhere but this site."""
    from html.parser import HTMLParser
    from urllib.parse import urlsplit

    loaded: list[str] = []

    class Loads(HTMLParser):
        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            if tag == "script" and attrs.get("src"):
                loaded.append(attrs["src"])
            if tag == "link" and attrs.get("href") and "stylesheet" in (attrs.get("rel") or ""):
                loaded.append(attrs["href"])

    Loads().feed(html)
    assert loaded  # the page does load its own script and styles: the check looks at something
    return [url for url in loaded if urlsplit(url).netloc not in ("", "localhost")]


def test_foreign_hosts_finds_a_script_from_a_cdn_and_not_a_token_that_spells_cdn():
    page = '<link rel="stylesheet" href="/static/css/site.css"><input name="csrf_token" value="xcdnx">'
    assert _foreign_hosts(page) == []
    assert _foreign_hosts(page + '<script src="https://cdn.example.net/chart.js"></script>') == [
        "https://cdn.example.net/chart.js"
    ]


def test_invalidated_signatures_leave_the_dashboard(staff_client, make_campaign, make_signature_row):
    campaign = make_campaign(target=10)
    fake = make_signature_row(campaign, zip_code="10451")
    make_signature_row(campaign, zip_code="10451")
    staff_client.post(f"/staff/signatures/{fake.id}/invalidate", data={"reason": "fake"})
    html = staff_client.get("/staff/").get_data(as_text=True)
    assert "<dt>Confirmed</dt><dd>1</dd>" in html
    assert '<th scope="row">Bronx County</th><td class="num">1</td>' in html
    assert campaign_service.confirmed_count(campaign) == 1
    assert db.session.get(Signature, fake.id).status == "invalidated"
