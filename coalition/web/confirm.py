"""The page behind the emailed confirmation link."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template
from flask_wtf import FlaskForm

from coalition.extensions import db, limiter
from coalition.services import confirmations
from coalition.tokens import TokenExpired, TokenInvalid

bp = Blueprint("confirm", __name__)


class ConfirmForm(FlaskForm):
    """The "Confirm" button: CSRF only."""


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
        db.session.commit()
        return render_template("confirm/done.html", submission=result.submission)
    if submission.all_confirmed:
        return render_template("confirm/done.html", submission=submission, already=True)
    return render_template("confirm/confirm.html", submission=submission, form=form)
