"""A campaign's outcome: recorded with a public text, and sent as an update in one step."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from coalition.extensions import db
from coalition.forms.staff import ConfirmForm, OutcomeForm
from coalition.models import Campaign
from coalition.services import outcomes
from coalition.web.staff import bp


@bp.route("/campaigns/<int:campaign_id>/outcome", methods=["GET", "POST"])
def campaign_outcome(campaign_id: int):
    """Record what came of a campaign (shown on its page and in the lists)."""
    campaign = db.get_or_404(Campaign, campaign_id)
    if request.method == "GET":
        form = OutcomeForm(
            outcome=campaign.outcome or "",
            outcome_on=campaign.outcome_on,
            outcome_text=campaign.outcome_text,
            outcome_text_es=campaign.outcome_text_es,
        )
    else:
        form = OutcomeForm()
    if form.validate_on_submit():
        try:
            outcomes.record_outcome(
                campaign,
                form.outcome.data or None,
                form.outcome_on.data,
                form.outcome_text.data or "",
                form.outcome_text_es.data or "",
                current_user.id,
            )
        except outcomes.OutcomeError as exc:
            db.session.rollback()
            form.form_errors.append(_("Not saved: %(reason)s.", reason=str(exc)))
        else:
            db.session.commit()
            flash(_("The outcome is saved and shows on the campaign's page."), "success")
            return redirect(url_for("staff.campaign_outcome", campaign_id=campaign.id))
    return render_template("staff/outcome.html", campaign=campaign, form=form, button_form=ConfirmForm())


@bp.post("/campaigns/<int:campaign_id>/outcome/update")
def outcome_update(campaign_id: int):
    """Make the outcome an update to the campaign's consenting signers, and ask to send it."""
    campaign = db.get_or_404(Campaign, campaign_id)
    if not ConfirmForm().validate_on_submit():
        return redirect(url_for("staff.campaign_outcome", campaign_id=campaign.id))
    try:
        item = outcomes.outcome_update(campaign, current_user.id)
    except (outcomes.OutcomeError, ValueError) as exc:
        db.session.rollback()
        flash(_("Not made: %(reason)s.", reason=str(exc)), "error")
        return redirect(url_for("staff.campaign_outcome", campaign_id=campaign.id))
    db.session.commit()
    return redirect(url_for("staff.send_update", update_id=item.id))


