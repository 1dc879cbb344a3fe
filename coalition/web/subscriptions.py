"""The page behind every update's unsubscribe link, and RFC 8058's one-click POST.

A GET only shows the page (mail scanners open links); a POST unsubscribes, whether it
is the button on that page or the mailbox provider's one click
(``List-Unsubscribe=One-Click``, sent from the provider's servers with no cookie, no
form stamp and no fetch metadata, which the site's cross-origin check lets through), so
the view asks for no form check and has no rate limit. Its answers are the visitor's own.
"""

from __future__ import annotations

from flask import Blueprint, make_response, render_template, request

from coalition.extensions import db
from coalition.services import subscriptions
from coalition.tokens import TokenInvalid

bp = Blueprint("subscriptions", __name__)


def _personal(response):
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
def unsubscribe(token: str):
    """GET: the mailbox's state and a button; POST: stop every update to it."""
    try:
        mailbox = subscriptions.read_link(token)
    except TokenInvalid:
        return _personal(make_response(render_template("subscriptions/invalid.html"), 404))
    if request.method == "GET":
        return _personal(make_response(render_template("subscriptions/unsubscribe.html", mailbox=mailbox, token=token)))
    subscriptions.unsubscribe(token)
    db.session.commit()
    if request.form.get("List-Unsubscribe") == "One-Click":
        # The provider's servers read no page.
        response = make_response("Unsubscribed.\n", 200)
        response.mimetype = "text/plain"
        return _personal(response)
    return _personal(make_response(render_template("subscriptions/unsubscribed.html", token=token)))


@bp.post("/unsubscribe/<token>/undo")
def resubscribe(token: str):
    """Undo an unsubscribe (or opt in again): a fresh consent, given with this button."""
    try:
        subscriptions.resubscribe(token)
    except TokenInvalid:
        return _personal(make_response(render_template("subscriptions/invalid.html"), 404))
    db.session.commit()
    return _personal(make_response(render_template("subscriptions/resubscribed.html", token=token)))
