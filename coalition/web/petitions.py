"""Campaign (petition) pages."""

from __future__ import annotations

from flask import Blueprint, abort, render_template

from coalition.services import campaigns as campaign_service

bp = Blueprint("petitions", __name__)


@bp.get("/campaigns/<slug>")
def campaign(slug: str):
    """A campaign's page: its text, goals and progress."""
    campaign = campaign_service.get_public_campaign(slug)
    if campaign is None:
        abort(404)
    return render_template(
        "petitions/campaign.html",
        campaign=campaign,
        count=campaign_service.confirmed_count(campaign),
        signable=campaign_service.is_signable(campaign),
    )
