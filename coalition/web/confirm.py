"""The page behind the emailed confirmation link."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

from coalition.extensions import limiter
from coalition.forms.antispam import PublicForm
from coalition.services import confirmations
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


def _done(submission: confirmations.Submission, already: bool = False):
    return render_template(
        "confirm/done.html", submission=submission, already=already, next_steps=_next_steps(submission)
    )


@bp.route("/confirm/<token>", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["CONFIRM_RATE_LIMIT"])
def confirm(token: str):
    """GET shows what will be confirmed and a button; POST confirms it."""
    try:
        submission = confirmations.load_submission(token)
    except TokenExpired:
        return render_template("confirm/invalid.html", expired=True), 410
    except TokenInvalid:
        return render_template("confirm/invalid.html", expired=False), 404
    if submission.empty:
        return render_template("confirm/invalid.html", expired=False, gone=True), 404
    form = ConfirmForm()
    if form.validate_on_submit():
        result = confirmations.confirm_submission(token)
        return _done(result.submission)
    if submission.all_confirmed:
        return _done(submission, already=True)
    return render_template("confirm/confirm.html", submission=submission, form=form)
