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
from flask_babel import ngettext

from coalition.extensions import db, limit_submissions, limiter
from coalition.forms.petitions import SignForm
from coalition.i18n import current_language, localized
from coalition.models import Campaign
from coalition.models.types import utcnow
from coalition.services import campaigns as campaign_service
from coalition.services import embeds, pledging, referrals, share_images, signing
from coalition.services.addresses import hash_client_address
from coalition.web import endorsements as endorsement_views
from coalition.templating import number
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
    """Plain sharing links (no third-party script): the page's public address in each service's
    form, each carrying ``?source=share-<service>`` so staff can count what sharing brings."""
    title = localized(campaign, "title")
    text = _("Sign “%(title)s”", title=title)

    language = current_language()

    def shared(service: str) -> str:
        return external_url("petitions.campaign", language=language, slug=campaign.slug, source=f"share-{service}")

    if campaign.share_image:
        image = {
            "url": external_url("petitions.share_image", language=language, name=campaign.share_image),
            "alt": localized(campaign, "share_image_alt"),
            "width": None,
            "height": None,
        }
    else:
        image = {
            "url": external_url("petitions.share_card", language=language, slug=campaign.slug),
            "alt": _("“%(title)s”: a petition of the Coalition for Women Prisoners", title=title),
            "width": share_images.CARD_SIZE[0],
            "height": share_images.CARD_SIZE[1],
        }
    return {
        "url": external_url("petitions.campaign", language=language, slug=campaign.slug),
        "image": image,
        "copy_url": shared("link"),
        "native_url": shared("native"),
        "title": title,
        "text": text,
        "links": [
            ("email", _("Email"), "mailto:?" + urlencode({"subject": title, "body": f"{text}\n{shared('email')}"}, quote_via=quote)),
            ("whatsapp", "WhatsApp", "https://wa.me/?" + urlencode({"text": f"{text} {shared('whatsapp')}"}, quote_via=quote)),
            ("facebook", "Facebook", "https://www.facebook.com/sharer/sharer.php?" + urlencode({"u": shared("facebook")})),
            ("x", "X", "https://x.com/intent/post?" + urlencode({"text": text, "url": shared("x")}, quote_via=quote)),
            ("bluesky", "Bluesky", "https://bsky.app/intent/compose?" + urlencode({"text": f"{text} {shared('bluesky')}"}, quote_via=quote)),
        ],
    }


def _closed_on(campaign: Campaign):
    """When signing ended: the recorded closing time, else a deadline that has passed."""
    if campaign.closed_at:
        return campaign.closed_at
    if campaign.closes_at and campaign.closes_at <= utcnow():
        return campaign.closes_at
    return None


def pledge_choice_label(goal) -> str:
    """A goal on the sign form, with the action a pledge there records ("…: I will call my legislators")."""
    action = pledging.first_action(goal)
    title = localized(goal, "title")
    if action is None:
        return title
    return _("%(goal)s (I will: %(action)s)", goal=title, action=localized(action, "label"))


def _offer_pledges(form: SignForm, campaign: Campaign) -> None:
    """Offer "I also pledge to support" for each goal the campaign advances."""
    form.also_pledge.choices = [(goal.slug, pledge_choice_label(goal)) for goal in campaign.goals]


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
        partner_counts=embeds.public_partner_counts(campaign.id),
        share=share_links(campaign),
        # Only a source the site knows goes back into the form's address, and nothing shows it.
        referral=referrals.clean_referral(request.args.get("source")),
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


def sign_with(form: SignForm, campaign: Campaign, **attribution) -> signing.SignResult:
    """Sign ``campaign`` with what the visitor sent in the sign form (the caller commits).

    ``attribution`` is the share link's ``referral`` or the embed's ``partner_id``.
    """
    return signing.sign_petition(
        campaign,
        _details(form),
        language=current_language(),
        client_hash=hash_client_address(request.remote_addr, current_app.config["SECRET_KEY"]),
        pledge_goals=[goal for goal in campaign.goals if goal.slug in (form.also_pledge.data or [])],
        **attribution,
    )


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
        sign_with(form, campaign, referral=referrals.clean_referral(request.args.get("source")))
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


#: Stored share images are named by their content's hash (see services.share_images).
_SHARE_IMAGE_NAME = re.compile(r"^[0-9a-f]{32}\.(png|jpg)$")
#: A year: a stored image's name changes whenever its content does.
SHARE_IMAGE_MAX_AGE = 365 * 24 * 3600


@bp.get("/campaigns/<slug>/share.png")
@limiter.exempt
def share_card(slug: str):
    """The card a shared link shows when staff uploaded no image: title, name and count."""
    campaign = _public_campaign_or_404(slug)
    seconds = current_app.config["SHARE_CARD_SECONDS"]
    language = current_language()

    def draw() -> bytes:
        count = campaign_service.confirmed_count(campaign)
        return share_images.draw_card(
            localized(campaign, "title"),
            _("Coalition for Women Prisoners"),
            ngettext("%(count)s signature", "%(count)s signatures", count, count=number(count)),
        )

    png = share_images.card_png((campaign.id, language), seconds, draw)
    response = current_app.response_class(png, mimetype="image/png")
    response.cache_control.public = True
    response.cache_control.max_age = seconds
    return response


@bp.get("/share-images/<name>")
@limiter.exempt
def share_image(name: str):
    """An uploaded share image, as stored (re-encoded, without EXIF), cached for a year."""
    if not _SHARE_IMAGE_NAME.match(name):
        abort(404)
    response = send_from_directory(current_app.config["SHARE_IMAGE_DIR"], name, max_age=SHARE_IMAGE_MAX_AGE)
    response.cache_control.public = True
    response.cache_control.immutable = True
    return response


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
