"""Creating and editing campaigns (with a preview), their status, and the goals' text and pledge actions."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from coalition.extensions import db
from coalition.forms.staff import CampaignForm, ConfirmForm, GoalForm, PartnerSiteForm, PledgeActionForm, ShareImageForm
from coalition.models import Campaign, Endorsement, Goal, PartnerSite, PledgeAction
from coalition.services import campaign_editing as editing
from coalition.security import accepts_uploads
from coalition.services import counting, embeds, referrals, share_images
from coalition.services.dashboard import local_zone
from coalition.i18n import localized, status_label
from coalition.web.staff import bp

#: How the Signatures-by-source table names each share link's service.
SOURCE_NAMES = {
    "share-email": "Email",
    "share-whatsapp": "WhatsApp",
    "share-facebook": "Facebook",
    "share-x": "X",
    "share-bluesky": "Bluesky",
    "share-link": _l("Copied link"),
    "share-native": _l("The device’s share menu"),
}


def _goal_choices() -> list[SelectChoice]:
    return [SelectChoice(g.slug, localized(g, "title")) for g in db.session.scalars(db.select(Goal).order_by(Goal.position))]


def _start(day):
    """The moment a New York day begins (``TIME_ZONE``), in UTC as stored."""
    if not day:
        return None
    return datetime.combine(day, time.min, tzinfo=local_zone()).astimezone(timezone.utc)


def _local_day(moment):
    return moment.astimezone(local_zone()).date()


def _data(form: CampaignForm) -> editing.CampaignData:
    return editing.CampaignData(
        slug=form.slug.data or "",
        title=form.title.data or "",
        summary=form.summary.data or "",
        body=form.body.data or "",
        target=form.target.data or 0,
        opens_at=_start(form.opens_on.data),
        # "Closes after" a day: signing ends at the end of that day.
        closes_at=_start(form.closes_on.data + timedelta(days=1)) if form.closes_on.data else None,
        title_es=form.title_es.data or "",
        summary_es=form.summary_es.data or "",
        body_es=form.body_es.data or "",
        goal_slugs=list(form.goals.data or []),
        featured=bool(form.featured.data),
    )


def _form_for(campaign: Campaign | None, from_request: bool = True) -> CampaignForm:
    if (from_request and request.method == "POST") or campaign is None:
        form = CampaignForm()
    else:
        # No ``obj=``: WTForms would prefer ``campaign.goals`` (Goal objects) to the slugs given here.
        form = CampaignForm(
            formdata=None,
            **{name: getattr(campaign, name) for name in ("title", "slug", "summary", "body", "target", "title_es", "summary_es", "body_es")},
            opens_on=_local_day(campaign.opens_at) if campaign.opens_at else None,
            closes_on=_local_day(campaign.closes_at - timedelta(seconds=1)) if campaign.closes_at else None,
            goals=[g.slug for g in campaign.goals],
            featured=campaign.featured,
        )
    form.goals.choices = _goal_choices()
    return form


def _save(form: CampaignForm, campaign: Campaign | None):
    """Preview, or save; returns a response to send, or None to show the form again."""
    if not form.validate_on_submit() or request.form.get("action") == "preview":
        return None
    try:
        if campaign is None:
            campaign = editing.create_campaign(current_user.id, _data(form))
        else:
            editing.update_campaign(campaign.id, current_user.id, _data(form))
    except editing.CampaignError as exc:
        db.session.rollback()
        target = getattr(form, exc.field, None) if exc.field else None
        (target.errors if target is not None else form.form_errors).append(str(exc))
        return None
    db.session.commit()
    flash(_("Campaign saved."), "success")
    return redirect(url_for("staff.edit_campaign", campaign_id=campaign.id))


@bp.get("/campaigns")
def campaigns():
    """Every campaign with its status and the actions it allows."""
    items = editing.all_campaigns()
    return render_template(
        "staff/campaigns.html",
        campaigns=items,
        counts=counting.signature_counts([c.id for c in items]),
        actions=editing.STATUS_ACTIONS,
        button_form=ConfirmForm(),
    )


@bp.route("/campaigns/new", methods=["GET", "POST"])
def new_campaign():
    """Create a campaign (a draft until opened)."""
    form = _form_for(None)
    return _save(form, None) or render_template(
        "staff/campaign_form.html", form=form, campaign=None, preview=request.form.get("action") == "preview"
    )


@bp.route("/campaigns/<int:campaign_id>/edit", methods=["GET", "POST"])
def edit_campaign(campaign_id: int):
    """Edit a campaign's text, target, dates and goals; preview before saving."""
    campaign = db.get_or_404(Campaign, campaign_id)
    form = _form_for(campaign)
    return _save(form, campaign) or _edit_page(campaign, form)


def _edit_page(
    campaign: Campaign,
    form: CampaignForm,
    image_form: ShareImageForm | None = None,
    site_form: tuple[int, PartnerSiteForm] | None = None,
) -> str:
    """The campaign's staff page: its form, its share image, its partners' embeds (and
    their other websites), its signatures by source. ``site_form``: (endorsement id, the
    form sent back with its errors) for the partner whose site was refused."""
    partners = embeds.campaign_embed_partners(campaign)
    site_forms = {item.id: PartnerSiteForm(formdata=None, prefix=f"site-{item.id}") for item in partners}
    if site_form is not None:
        site_forms[site_form[0]] = site_form[1]
    return render_template(
        "staff/campaign_form.html",
        form=form,
        campaign=campaign,
        preview=request.form.get("action") == "preview" or request.args.get("preview") == "1",
        actions=editing.STATUS_ACTIONS,
        sources=referrals.signatures_by_source(campaign.id),
        source_names=SOURCE_NAMES,
        partners=partners,
        snippets={item.id: embeds.embed_snippet(item) for item in partners},
        site_snippets={
            (item.id, site.id): embeds.embed_snippet(item, site=site) for item in partners for site in item.organization.sites
        },
        site_forms=site_forms,
        image_form=image_form or ShareImageForm(formdata=None, alt=campaign.share_image_alt, alt_es=campaign.share_image_alt_es),
    )


accepts_uploads("staff.campaign_share_image", "image")


@bp.post("/campaigns/<int:campaign_id>/share-image")
def campaign_share_image(campaign_id: int):
    """Upload the campaign's share image (checked and re-encoded), or go back to the drawn card."""
    campaign = db.get_or_404(Campaign, campaign_id)
    back = url_for("staff.edit_campaign", campaign_id=campaign.id) + "#share-image"
    # This form alone may send more than the site's usual limit on a request's size.
    request.max_content_length = share_images.MAX_UPLOAD_BYTES + 256 * 1024
    if request.form.get("action") == "remove":
        if ConfirmForm().validate_on_submit():
            share_images.remove_share_image(campaign.id, current_user.id)
            db.session.commit()
            flash(_("The share image is removed; shared links show the drawn card."), "success")
        return redirect(back)
    form = ShareImageForm()
    if form.validate_on_submit():
        upload = form.image.data
        data = upload.read(share_images.MAX_UPLOAD_BYTES + 1) if upload else b""
        try:
            name = share_images.store_upload(current_app.config["SHARE_IMAGE_DIR"], data)
            share_images.set_share_image(campaign.id, current_user.id, name, form.alt.data, form.alt_es.data or "")
        except share_images.ShareImageError as exc:
            db.session.rollback()
            form.image.errors = [*form.image.errors, str(exc)]
        else:
            db.session.commit()
            flash(_("The share image is saved."), "success")
            return redirect(back)
    return _edit_page(campaign, _form_for(campaign, from_request=False), form)


@bp.post("/endorsements/<int:endorsement_id>/embed-count")
def endorsement_embed_count(endorsement_id: int):
    """Show on the campaign page how many signed through a partner's embed, or stop."""
    endorsement = db.get_or_404(Endorsement, endorsement_id)
    if ConfirmForm().validate_on_submit():
        show = request.form.get("action") == "show" and endorsement.public_consent
        embeds.set_show_embed_count(endorsement.id, current_user.id, show)
        db.session.commit()
        flash(_("Saved."), "success")
    return redirect(url_for("staff.edit_campaign", campaign_id=endorsement.campaign_id) + "#embeds")


#: What staff are told when a site they typed is refused.
_SITE_REFUSALS = {
    "not-an-address": _l("That is not a website’s address: type one like harlemreentry.org or https://harlemreentry.org/petition."),
    "own-domain": _l("That is the organization’s own domain: its snippet above already works there."),
    "taken": _l("That website is already another organization’s: an embed address names one partner."),
}


@bp.post("/endorsements/<int:endorsement_id>/sites")
def add_partner_site(endorsement_id: int):
    """Add another website of this endorsement's organization, with its own embed address."""
    endorsement = db.get_or_404(Endorsement, endorsement_id)
    campaign = db.get_or_404(Campaign, endorsement.campaign_id)
    form = PartnerSiteForm(prefix=f"site-{endorsement.id}")
    if form.validate_on_submit():
        try:
            site = embeds.add_partner_site(endorsement.organization_id, form.address.data, current_user.id)
        except embeds.PartnerSiteRefused as refused:
            form.address.errors = [*form.address.errors, str(_SITE_REFUSALS[refused.reason])]
        else:
            db.session.commit()
            flash(_("Added: %(site)s has an embed address of its own.", site=site.domain), "success")
            return redirect(url_for("staff.edit_campaign", campaign_id=campaign.id) + f"#site-{site.id}")
    response = current_app.make_response(_edit_page(campaign, _form_for(campaign, from_request=False), site_form=(endorsement.id, form)))
    response.status_code = 400
    return response


@bp.post("/endorsements/<int:endorsement_id>/sites/<int:site_id>/remove")
def remove_partner_site(endorsement_id: int, site_id: int):
    """Remove a website staff added: its embed address stops answering."""
    endorsement = db.get_or_404(Endorsement, endorsement_id)
    site = db.get_or_404(PartnerSite, site_id)
    if site.organization_id != endorsement.organization_id:
        abort(404)
    if ConfirmForm().validate_on_submit():
        embeds.remove_partner_site(site.id, current_user.id)
        db.session.commit()
        flash(_("Removed: its embed address no longer answers."), "success")
    return redirect(url_for("staff.edit_campaign", campaign_id=endorsement.campaign_id) + "#embeds")


#: Status changes that end signing or hide a campaign: asked to confirm first.
CONFIRMED_ACTIONS = ("close", "archive")


@bp.post("/campaigns/<int:campaign_id>/status")
def campaign_status(campaign_id: int):
    """Open, close, archive or unarchive a campaign; closing and archiving ask to confirm."""
    action = request.form.get("action", "")
    back = request.form.get("back", "")
    if action in CONFIRMED_ACTIONS and request.form.get("confirmed") != "yes":
        campaign = db.get_or_404(Campaign, campaign_id)
        return render_template("staff/confirm_status.html", campaign=campaign, action=action, back=back)
    if ConfirmForm().validate_on_submit():
        try:
            campaign = editing.change_status(campaign_id, current_user.id, action)
        except editing.CampaignError as exc:
            db.session.rollback()
            flash(str(exc), "error")
        else:
            db.session.commit()
            flash(_("“%(title)s” is now %(status)s.", title=campaign.title, status=status_label(campaign.status)), "success")
    if back == "edit":
        return redirect(url_for("staff.edit_campaign", campaign_id=campaign_id))
    return redirect(url_for("staff.campaigns"))


@bp.get("/goals")
def goals():
    """The coalition's goals, to edit their text and pledge actions."""
    return render_template("staff/goals.html", goals=list(db.session.scalars(db.select(Goal).order_by(Goal.position))))


@bp.route("/goals/<int:goal_id>", methods=["GET", "POST"])
def edit_goal(goal_id: int):
    """Edit a goal's text; its pledge actions are listed below with their own forms."""
    goal = db.get_or_404(Goal, goal_id)
    form = GoalForm(obj=None if request.method == "POST" else goal)
    if form.validate_on_submit():
        try:
            editing.update_goal(
                goal.id,
                current_user.id,
                editing.GoalData(
                    title=form.title.data, summary=form.summary.data, body=form.body.data or "",
                    title_es=form.title_es.data or "", summary_es=form.summary_es.data or "", body_es=form.body_es.data or "",
                ),
            )
        except editing.CampaignError as exc:
            db.session.rollback()
            getattr(form, exc.field or "title").errors.append(str(exc))
        else:
            db.session.commit()
            flash(_("Goal saved."), "success")
            return redirect(url_for("staff.edit_goal", goal_id=goal.id))
    new_action = PledgeActionForm(formdata=None, prefix="new")
    return render_template("staff/goal_form.html", goal=goal, form=form, new_action=new_action)


@bp.post("/goals/<int:goal_id>/actions")
def add_pledge_action(goal_id: int):
    """Offer a new pledge action for a goal."""
    goal = db.get_or_404(Goal, goal_id)
    form = PledgeActionForm(prefix="new")
    if form.validate_on_submit():
        try:
            editing.add_pledge_action(goal.id, current_user.id, form.label.data, form.label_es.data or "")
        except editing.CampaignError as exc:
            db.session.rollback()
            flash(str(exc), "error")
        else:
            db.session.commit()
            flash(_("Action added."), "success")
    else:
        flash(_("Write the action."), "error")
    return redirect(url_for("staff.edit_goal", goal_id=goal.id) + "#actions")


@bp.post("/goals/actions/<int:action_id>")
def edit_pledge_action(action_id: int):
    """Reword or retire a pledge action."""
    action = db.get_or_404(PledgeAction, action_id)
    form = PledgeActionForm(prefix=f"a{action.id}")
    if form.validate_on_submit():
        try:
            editing.update_pledge_action(action.id, current_user.id, form.label.data, form.label_es.data or "", form.active.data)
        except editing.CampaignError as exc:
            db.session.rollback()
            flash(str(exc), "error")
        else:
            db.session.commit()
            flash(_("Action saved."), "success")
    else:
        flash(_("Write the action."), "error")
    return redirect(url_for("staff.edit_goal", goal_id=action.goal_id) + "#actions")
