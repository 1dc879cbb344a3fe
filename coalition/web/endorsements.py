"""Organizations endorsing campaigns: the form, the emailed links, and the public list."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for

from coalition.extensions import limit_submissions, limiter
from coalition.forms.endorsements import EndorseForm, EndorsementLinkForm
from coalition.i18n import current_language
from coalition.models import Campaign
from coalition.services import campaigns as campaign_service
from coalition.services import endorsing
from coalition.services.addresses import hash_client_address
from coalition.tokens import TokenExpired, TokenInvalid
from coalition.web.caching import public_page

bp = Blueprint("endorsements", __name__)


@bp.app_template_filter("org_type")
def org_type_filter(key: str) -> str:
    """An organization type's name in the reader's language."""
    return endorsing.organization_type_label(key)


def campaign_section(campaign: Campaign) -> dict:
    """What ``endorsements/_campaign_section.html`` needs on a campaign's page."""
    form = None
    if endorsing.accepts_endorsements(campaign):
        form = EndorseForm(formdata=None)
        form.stamp()
    return {"endorsements": endorsing.public_endorsements(campaign.id), "endorse_form": form}


def _public_campaign_or_404(slug: str) -> Campaign:
    campaign = campaign_service.get_public_campaign(slug)
    if campaign is None:
        abort(404)
    return campaign


@bp.route("/campaigns/<slug>/endorse", methods=["GET", "POST"])
@limit_submissions(lambda: current_app.config["ENDORSE_RATE_LIMIT"])
@public_page
def endorse(slug: str):
    """The endorsement form on its own page; a campaign page's form posts here too."""
    campaign = _public_campaign_or_404(slug)
    endorsements = endorsing.public_endorsements(campaign.id)
    if not endorsing.accepts_endorsements(campaign):
        return render_template(
            "endorsements/endorse.html", campaign=campaign, endorsements=endorsements, endorse_form=None
        )
    form = EndorseForm()
    too_fast = False
    if form.is_submitted():
        valid = form.validate()
        reason = form.robot_reason()
        if reason == "honeypot":
            # Robots get the thank-you page; nothing is saved or sent.
            return redirect(url_for("endorsements.thanks", slug=campaign.slug))
        if reason == "too-fast":
            form.stamp()
            too_fast = valid
        elif valid:
            endorsing.submit_endorsement(campaign, _details(form))
            return redirect(url_for("endorsements.thanks", slug=campaign.slug))
    else:
        form.stamp()
    return render_template(
        "endorsements/endorse.html",
        campaign=campaign,
        endorsements=endorsements,
        endorse_form=form,
        too_fast=too_fast,
    )


def _details(form: EndorseForm) -> endorsing.EndorsementDetails:
    return endorsing.EndorsementDetails(
        organization_name=form.organization_name.data,
        website=form.website.data,
        org_type=form.org_type.data,
        locality=form.locality.data,
        contact_name=form.contact_name.data,
        contact_role=form.contact_role.data,
        contact_email=form.contact_email.data,
        contact_phone=form.contact_phone.data or "",
        statement=form.statement.data or "",
        authorized=bool(form.authorized.data),
        public_consent=bool(form.public_consent.data),
        language=current_language(),
        client_hash=hash_client_address(request.remote_addr, current_app.config["SECRET_KEY"]),
    )


@bp.get("/campaigns/<slug>/endorse/thanks")
def thanks(slug: str):
    """The same page after every endorsement, whatever the submission did."""
    campaign = _public_campaign_or_404(slug)
    return render_template("endorsements/thanks.html", campaign=campaign)


@bp.get("/endorsements")
@public_page
def index():
    """Every organization that has endorsed, with the campaigns it endorses."""
    return render_template("endorsements/index.html", endorsers=endorsing.public_endorsers())


def _endorsement_or_error_page(purpose: str, token: str):
    """The endorsement a link names, or the error page to show instead."""
    try:
        return endorsing.endorsement_from_token(purpose, token), None
    except TokenExpired:
        return None, (render_template("endorsements/invalid.html", expired=True, purpose=purpose), 410)
    except TokenInvalid:
        return None, (render_template("endorsements/invalid.html", expired=False, purpose=purpose), 404)


@bp.route("/endorsements/confirm/<token>", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["CONFIRM_RATE_LIMIT"])
def confirm(token: str):
    """GET shows a "Confirm" button (mail scanners that open links confirm nothing); POST confirms."""
    endorsement, error_page = _endorsement_or_error_page(endorsing.CONFIRM_PURPOSE, token)
    if error_page:
        return error_page
    form = EndorsementLinkForm()
    if form.validate_on_submit():
        endorsement, _changed = endorsing.confirm_endorsement(token)
        return render_template("endorsements/confirmed.html", endorsement=endorsement)
    if endorsement.status != "submitted":
        return render_template("endorsements/confirmed.html", endorsement=endorsement, already=True)
    return render_template("endorsements/confirm.html", endorsement=endorsement, form=form)


@bp.route("/endorsements/withdraw/<token>", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["CONFIRM_RATE_LIMIT"])
def withdraw(token: str):
    """GET asks "Withdraw this endorsement?" with a button; POST withdraws it."""
    endorsement, error_page = _endorsement_or_error_page(endorsing.WITHDRAW_PURPOSE, token)
    if error_page:
        return error_page
    form = EndorsementLinkForm()
    if form.validate_on_submit():
        endorsement, _changed = endorsing.withdraw_endorsement(token)
        return render_template("endorsements/withdrawn.html", endorsement=endorsement)
    if endorsement.status == "withdrawn":
        return render_template("endorsements/withdrawn.html", endorsement=endorsement, already=True)
    return render_template("endorsements/withdraw.html", endorsement=endorsement, form=form)
