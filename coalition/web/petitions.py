"""Campaign (petition) pages: reading, signing, and the thank-you page."""

from __future__ import annotations

import email
import ipaddress
import os
import re
from email import policy
from urllib.parse import quote, urlencode

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_babel import gettext as _

from coalition.extensions import db, limit_submissions, limiter
from coalition.forms.petitions import SignForm
from coalition.i18n import current_language, localized
from coalition.models import Campaign
from coalition.models.types import utcnow
from coalition.services import campaigns as campaign_service
from coalition.services import signing
from coalition.services.addresses import hash_client_address
from coalition.web import endorsements as endorsement_views
from coalition.web.caching import keep_until, public_page
from coalition.urls import external_url

bp = Blueprint("petitions", __name__)

#: Outbox files are named by the mail queue: time, row id, then a random part.
_OUTBOX_NAME = re.compile(r"^[0-9]{8}-[0-9]{6}-[0-9]{8}-[0-9a-f]{8}\.eml$")
#: How many outbox messages the development page lists.
OUTBOX_SHOWN = 20
#: What to say beside a field that signing refused (``signing.InvalidSignerDetails``).
REFUSED_MESSAGES = {
    "email": lambda: _("Please enter a real email address, like name@example.com."),
    "zip_code": lambda: _(
        "We do not know this ZIP code. Please check it, or leave it empty and give your "
        "country if you live outside the US."
    ),
}


def _public_campaign_or_404(slug: str) -> Campaign:
    campaign = campaign_service.get_public_campaign(slug)
    if campaign is None:
        abort(404)
    return campaign


def share_links(campaign: Campaign) -> dict:
    """Plain sharing links (no third-party script): the page's public address in each service's form."""
    url = external_url("petitions.campaign", language=current_language(), slug=campaign.slug)
    title = localized(campaign, "title")
    text = _("Sign “%(title)s”", title=title)
    return {
        "url": url,
        "links": [
            ("email", _("Email"), "mailto:?" + urlencode({"subject": title, "body": f"{text}\n{url}"}, quote_via=quote)),
            ("whatsapp", "WhatsApp", "https://wa.me/?" + urlencode({"text": f"{text} {url}"}, quote_via=quote)),
            ("facebook", "Facebook", "https://www.facebook.com/sharer/sharer.php?" + urlencode({"u": url})),
            ("x", "X", "https://x.com/intent/post?" + urlencode({"text": text, "url": url}, quote_via=quote)),
            ("bluesky", "Bluesky", "https://bsky.app/intent/compose?" + urlencode({"text": f"{text} {url}"}, quote_via=quote)),
        ],
    }


def _closed_on(campaign: Campaign):
    """When signing ended: the recorded closing time, else a deadline that has passed."""
    if campaign.closed_at:
        return campaign.closed_at
    if campaign.closes_at and campaign.closes_at <= utcnow():
        return campaign.closes_at
    return None


def _offer_pledges(form: SignForm, campaign: Campaign) -> None:
    """Offer "I also pledge to support" for each goal the campaign advances."""
    form.also_pledge.choices = [(goal.slug, localized(goal, "title")) for goal in campaign.goals]


def _render_campaign(campaign: Campaign, form: SignForm | None, status: int = 200, **extra):
    """The campaign's page (kept by shared caches no longer than the campaign is open)."""
    signable = campaign_service.is_signable(campaign)
    if request.method == "POST" and not signable:
        # A stale form or a crafted POST: say so plainly on the page itself.
        form, status, extra["refused"] = None, 409, True
    section = endorsement_views.campaign_section(campaign)
    keep_until(campaign.closes_at)
    html = render_template(
        "petitions/campaign.html",
        campaign=campaign,
        count=campaign_service.confirmed_count(campaign),
        signable=signable,
        closed_on=_closed_on(campaign),
        form=form if signable else None,
        signers=signing.public_signers(campaign.id),
        share=share_links(campaign),
        **section,
        **extra,
    )
    return html, status


def _show_refusals(form: SignForm, fields: frozenset[str]) -> None:
    """Put signing's message beside each refused field that has no message of its own yet."""
    for name in fields:
        field = getattr(form, name)
        if not field.errors:
            field.errors = [REFUSED_MESSAGES[name]()]


def _details(form: SignForm) -> signing.SignerDetails:
    return signing.SignerDetails(
        full_name=form.full_name.data,
        email=form.email.data,
        zip_code=form.zip_code.data or None,
        country=None if form.zip_code.data else (form.country.data or None),
        comment=form.comment.data or "",
        show_publicly=bool(form.show_publicly.data),
        wants_updates=bool(form.wants_updates.data),
        deliver_name=bool(form.deliver_name.data),
    )


@bp.route("/campaigns/<slug>", methods=["GET", "POST"])
@limit_submissions(lambda: current_app.config["SIGN_RATE_LIMIT"])
@public_page
def campaign(slug: str):
    """A campaign's page; POST signs it, then redirects to the thank-you page."""
    campaign = _public_campaign_or_404(slug)
    form = SignForm()
    _offer_pledges(form, campaign)
    if request.method == "GET":
        form.stamp()
        return _render_campaign(campaign, form)

    if form.robot_reason() == "honeypot":
        # Look exactly like success, and save nothing.
        return redirect(url_for("petitions.thanks", slug=slug), code=303)
    if not form.validate_on_submit():
        # Signing's own refusals too, so every mistake shows at once (where the field parsed).
        _show_refusals(form, signing.refused_fields(_details(form)))
        return _render_campaign(campaign, form)
    if form.robot_reason() == "too-fast":
        form.stamp()
        return _render_campaign(campaign, form, too_fast=True)

    try:
        signing.sign_petition(
            campaign,
            _details(form),
            language=current_language(),
            client_hash=hash_client_address(request.remote_addr, current_app.config["SECRET_KEY"]),
            pledge_goals=[goal for goal in campaign.goals if goal.slug in (form.also_pledge.data or [])],
        )
    except signing.CampaignNotSignable:
        return _render_campaign(campaign, None)  # the page says it takes no signatures (409)
    except signing.InvalidSignerDetails as refused:
        _show_refusals(form, refused.fields)
        return _render_campaign(campaign, form)
    db.session.commit()
    # Post/redirect/get: reloading the thank-you page sends nothing again, and no
    # personal data travels in the address. New signers and duplicates see the same page.
    return redirect(url_for("petitions.thanks", slug=slug), code=303)


@bp.get("/campaigns/<slug>/thanks")
def thanks(slug: str):
    """After signing: check your email (the same page for a first signature and a repeat)."""
    campaign = _public_campaign_or_404(slug)
    return render_template(
        "petitions/thanks.html",
        campaign=campaign,
        share=share_links(campaign),
        outbox=outbox_visible(),
    )


def outbox_visible() -> bool:
    """Whether the development outbox may be shown: development, no mail server, a local visitor."""
    if current_app.config["ENV"] != "development" or current_app.config.get("MAIL_URL"):
        return False
    try:
        return ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False


def _outbox_names() -> list[str]:
    folder = current_app.config["OUTBOX_DIR"]
    if not os.path.isdir(folder):
        return []
    return sorted((name for name in os.listdir(folder) if _OUTBOX_NAME.match(name)), reverse=True)


@bp.get("/dev/outbox")
@limiter.exempt
def dev_outbox():
    """Development only: the newest messages written to the outbox, with their links clickable."""
    if not outbox_visible():
        abort(404)
    folder = current_app.config["OUTBOX_DIR"]
    messages = []
    for name in _outbox_names()[:OUTBOX_SHOWN]:
        with open(os.path.join(folder, name), "rb") as handle:
            message = email.message_from_bytes(handle.read(), policy=policy.default)
        body = message.get_body(preferencelist=("plain",))
        text = body.get_content() if body is not None else ""
        messages.append(
            {
                "name": name,
                "to": message["To"],
                "subject": message["Subject"],
                "text": text,
                "links": re.findall(r"https?://\S+", text),
            }
        )
    return render_template("petitions/dev_outbox.html", messages=messages, folder=folder)


@bp.get("/dev/outbox/<name>")
@limiter.exempt
def dev_outbox_message(name: str):
    """Development only: one outbox message as it would be sent."""
    if not outbox_visible() or not _OUTBOX_NAME.match(name):
        abort(404)
    return send_from_directory(
        current_app.config["OUTBOX_DIR"], name, mimetype="text/plain", max_age=0
    )
