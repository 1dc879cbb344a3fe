"""The page behind the emailed confirmation link."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request
from flask_babel import gettext as _

from coalition.extensions import db, limiter
from coalition.forms.antispam import PublicForm
from coalition.i18n import localized
from coalition.services import confirmations, districts, legislators
from coalition.tokens import TokenExpired, TokenInvalid
from coalition.web.petitions import share_links

bp = Blueprint("confirm", __name__)


class ConfirmForm(PublicForm):
    """The "Confirm" button: no fields."""


def _next_steps(submission: confirmations.Submission) -> list[dict]:
    """For each campaign confirmed: its share links, and its goals not yet pledged to here."""
    pledged = {pledge.goal_id for pledge in submission.pledges}
    return [
        {
            "campaign": signature.campaign,
            "share": share_links(signature.campaign),
            "goals": [goal for goal in signature.campaign.goals if goal.id not in pledged],
        }
        for signature in submission.signatures
    ]


class DistrictChoiceForm(PublicForm):
    """"Which legislator represents you?" for a signer between districts (the choices are the page's radios)."""


def _load(token: str):
    """The submission, or the page that says why the link does not work."""
    try:
        submission = confirmations.load_submission(token)
    except TokenExpired:
        return None, (render_template("confirm/invalid.html", expired=True), 410)
    except TokenInvalid:
        return None, (render_template("confirm/invalid.html", expired=False), 404)
    if submission.empty:
        return None, (render_template("confirm/invalid.html", expired=False, gone=True), 404)
    return submission, None


def _your_legislators(submission):
    """The "your legislators" part: for the first confirmed signature, its legislators and choices."""
    signature = next((s for s in submission.signatures if s.status == "confirmed"), None)
    if signature is None:
        return None
    campaign = signature.campaign
    title = localized(campaign, "title")
    return legislators.for_signer(
        signature,
        campaign,
        default_subject=_("Please support: %(title)s", title=title),
        default_body=_(
            "I live in your district and I signed the petition “%(title)s” of the Coalition for Women "
            "Prisoners. Please support it.",
            title=title,
        ),
    )


def _done(token: str, submission, **context):
    return render_template(
        "confirm/done.html",
        submission=submission,
        token=token,
        next_steps=_next_steps(submission),
        your_legislators=_your_legislators(submission),
        district_form=DistrictChoiceForm(),
        **context,
    )


@bp.route("/confirm/<token>", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["CONFIRM_RATE_LIMIT"])
def confirm(token: str):
    """GET shows what will be confirmed and a button; POST confirms it."""
    submission, refusal = _load(token)
    if refusal:
        return refusal
    form = ConfirmForm()
    if form.validate_on_submit():
        result = confirmations.confirm_submission(token)
        db.session.commit()
        return _done(token, result.submission)
    if submission.all_confirmed:
        return _done(token, submission, already=True)
    return render_template("confirm/confirm.html", submission=submission, form=form)


@bp.route("/confirm/<token>/districts", methods=["POST"])
@limiter.limit(lambda: current_app.config["CONFIRM_RATE_LIMIT"])
def choose_districts(token: str):
    """Save which legislator represents a signer who is between districts."""
    submission, refusal = _load(token)
    if refusal:
        return refusal
    signature = next((s for s in submission.signatures if s.status == "confirmed"), None)
    form = DistrictChoiceForm()
    if signature is None or not form.validate_on_submit():
        abort(400)
    answers = {chamber: request.form.get(f"district_{chamber}", "") for chamber in ("upper", "lower")}
    try:
        saved = districts.choose_districts(signature, answers)
    except districts.DistrictChoiceError:
        db.session.rollback()
        return _done(token, submission, choice_error=True), 400
    db.session.commit()
    return _done(token, submission, choice_saved=saved)
