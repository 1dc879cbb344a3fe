"""Partners' embedded petitions: the sign form, count and progress, compact, in a partner's iframe.

The embed sets no cookie and needs no session: in a browser that blocks third-party
cookies it signs just the same. Its responses alone may be framed, by that partner's
website alone (``frame-ancestors``); every other page keeps refusing to be framed.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for

from coalition.extensions import db, limit_submissions
from coalition.forms.petitions import SignForm
from coalition.models import Campaign
from coalition.security import CONTENT_SECURITY_POLICY
from coalition.services import campaigns as campaign_service
from coalition.services import embeds, signing
from coalition.web.caching import keep_until, public_page
from coalition.web.petitions import _details, _show_refusals, pledge_choice_label, sign_with

bp = Blueprint("embed", __name__, url_prefix="/embed")


def _partner_and_campaign(partner: str, slug: str) -> tuple[embeds.EmbedAddress, Campaign]:
    address = embeds.embed_partner(partner)
    campaign = campaign_service.get_public_campaign(slug)
    if address is None or campaign is None:
        abort(404)
    return address, campaign


def _framed_by(address: embeds.EmbedAddress, body: str, status: int = 200):
    """The response, framable by the website this address is for alone."""
    response = current_app.make_response((body, status))
    sources = " ".join(embeds.frame_ancestors(address)) or "'none'"
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY.replace(
        "frame-ancestors 'none'", f"frame-ancestors {sources}"
    )
    # No X-Frame-Options then (coalition.security): it has no way to name one site.
    return response


def _offer_pledges(form: SignForm, campaign: Campaign) -> None:
    form.also_pledge.choices = [(goal.slug, pledge_choice_label(goal)) for goal in campaign.goals]


def _render(address: embeds.EmbedAddress, campaign: Campaign, form: SignForm | None, status: int = 200, **extra):
    signable = campaign_service.is_signable(campaign)
    html = render_template(
        "embed/sign.html",
        partner=address,
        campaign=campaign,
        count=campaign_service.confirmed_count(campaign),
        signable=signable,
        form=form if signable else None,
        **extra,
    )
    return _framed_by(address, html, status)


@bp.route("/<partner>/campaigns/<slug>", methods=["GET", "POST"])
@limit_submissions(lambda: current_app.config["SIGN_RATE_LIMIT"])
@public_page
def sign(partner: str, slug: str):
    """The compact sign form for a partner's website; POST signs, then the thank-you step."""
    address, campaign = _partner_and_campaign(partner, slug)
    # A public form: no CSRF token (a frame on another site gets no cookie where third-party
    # cookies are blocked); the cross-origin check on every POST sees the frame's POST as
    # same-origin, because the frame's document is this site's.
    form = SignForm()
    _offer_pledges(form, campaign)
    keep_until(campaign.closes_at)
    if request.method == "GET":
        form.stamp()
        return _render(address, campaign, form)
    thanks = url_for("embed.thanks", partner=address.domain, slug=campaign.slug)
    if form.robot_reason() == "honeypot":
        return redirect(thanks, code=303)
    if not form.validate_on_submit():
        _show_refusals(form, signing.refused_fields(_details(form)))
        return _render(address, campaign, form)
    if form.robot_reason() == "too-fast":
        form.stamp()
        return _render(address, campaign, form, too_fast=True)
    try:
        sign_with(form, campaign, partner_id=address.organization.id)
    except signing.CampaignNotSignable:
        return _render(address, campaign, None, status=409, refused=True)
    except signing.InvalidSignerDetails as refused:
        _show_refusals(form, refused.fields)
        return _render(address, campaign, form)
    db.session.commit()
    return redirect(thanks, code=303)


@bp.get("/<partner>/campaigns/<slug>/thanks")
def thanks(partner: str, slug: str):
    """The thank-you step, inside the frame, with the full campaign page a new tab away."""
    address, campaign = _partner_and_campaign(partner, slug)
    return _framed_by(address, render_template("embed/thanks.html", partner=address, campaign=campaign))
