"""The public JSON: campaigns with their confirmed counts, cacheable, with no personal data."""

from __future__ import annotations

from datetime import timedelta

from coalition.models.types import utcnow
from tests.test_campaign_page import _confirmed


def test_campaign_list_json(client, make_campaign):
    deadline = utcnow().replace(microsecond=0) + timedelta(days=5)
    open_one = make_campaign(slug="open-one", title="Open one", target=500, closes_at=deadline)
    closed_one = make_campaign(slug="closed-one", status="closed", closed_at=utcnow() - timedelta(days=1))
    make_campaign(slug="a-draft", status="draft")
    make_campaign(slug="archived", status="archived")
    _confirmed(open_one, "Rosa Parks", "rosa@example.org")
    _confirmed(open_one, "Ana Souza", "ana@example.org")
    _confirmed(closed_one, "Keisha Brown", "keisha@example.org")

    response = client.get("/api/campaigns.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Cache-Control"] in ("public, max-age=60", "max-age=60, public")
    campaigns = response.get_json()["campaigns"]
    assert [c["slug"] for c in campaigns] == ["open-one", "closed-one"]
    first = campaigns[0]
    assert first == {
        "slug": "open-one",
        "title": "Open one",
        "title_es": None,
        "status": "open",
        "confirmed_signatures": 2,
        "target": 500,
        "deadline": deadline.isoformat().replace("+00:00", "Z"),
        "closed_at": None,
        "url": "http://localhost/campaigns/open-one",
    }
    assert campaigns[1]["status"] == "closed" and campaigns[1]["confirmed_signatures"] == 1
    assert "example.org" not in response.get_data(as_text=True)


def test_one_campaign_json(client, make_campaign):
    campaign = make_campaign(slug="families", target=20)
    _confirmed(campaign, "Rosa Parks", "rosa@example.org")
    response = client.get("/api/campaigns/families.json")
    assert response.status_code == 200
    assert "max-age=60" in response.headers["Cache-Control"]
    data = response.get_json()
    assert (data["slug"], data["status"], data["confirmed_signatures"], data["target"]) == ("families", "open", 1, 20)


def test_pending_signatures_are_not_in_the_count(client, make_campaign):
    from tests.test_signing import sign_data

    campaign = make_campaign(slug="c")
    client.post("/campaigns/c", data=sign_data())
    assert client.get("/api/campaigns/c.json").get_json()["confirmed_signatures"] == 0
    assert campaign.slug == "c"


def test_unknown_and_draft_campaigns_are_json_404(client, make_campaign):
    make_campaign(slug="draft", status="draft")
    for slug in ("nope", "draft"):
        response = client.get(f"/api/campaigns/{slug}.json")
        assert response.status_code == 404
        assert response.get_json()["status"] == 404


def test_cache_age_is_configurable(app_factory):
    app = app_factory(API_CACHE_SECONDS=15)
    response = app.test_client().get("/api/campaigns.json")
    assert "max-age=15" in response.headers["Cache-Control"]
    assert response.get_json() == {"campaigns": []}
