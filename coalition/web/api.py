"""Public, read-only JSON about campaigns: for partners' sites and the coalition's own tools."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, jsonify

from coalition.models import Campaign
from coalition.models.types import utcnow
from coalition.services import campaigns as campaign_service
from coalition.urls import external_url

bp = Blueprint("api", __name__, url_prefix="/api")


def public_status(campaign: Campaign) -> str:
    """What the public sees: "open" while signable, "upcoming" before it opens, else "closed"."""
    if campaign_service.is_signable(campaign):
        return "open"
    if campaign.status == "open" and campaign.opens_at and campaign.opens_at > utcnow():
        return "upcoming"
    return "closed"


def _isoformat(value) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def campaign_summary(campaign: Campaign, count: int) -> dict:
    """One campaign as the API gives it: no personal data, only the confirmed count."""
    return {
        "slug": campaign.slug,
        "title": campaign.title,
        "title_es": campaign.title_es or None,
        "status": public_status(campaign),
        "confirmed_signatures": count,
        "target": campaign.target,
        "deadline": _isoformat(campaign.closes_at),
        "closed_at": _isoformat(campaign.closed_at),
        "url": external_url("petitions.campaign", slug=campaign.slug),
    }


def _cacheable(response: Response) -> Response:
    # Counts may be a minute old; in exchange a busy day's polling is served by caches.
    response.cache_control.public = True
    response.cache_control.max_age = int(current_app.config["API_CACHE_SECONDS"])
    # Public data without cookies: other sites may read it from the browser.
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/campaigns.json")
def campaigns():
    """Every public campaign (open first, then closed) with its confirmed count."""
    listed = campaign_service.public_campaigns()
    counts = campaign_service.confirmed_counts([c.id for c in listed])
    return _cacheable(jsonify({"campaigns": [campaign_summary(c, counts[c.id]) for c in listed]}))


@bp.get("/campaigns/<slug>.json")
def campaign(slug: str):
    """One public campaign with its confirmed count."""
    found = campaign_service.get_public_campaign(slug)
    if found is None:
        abort(404)
    return _cacheable(jsonify(campaign_summary(found, campaign_service.confirmed_count(found))))
