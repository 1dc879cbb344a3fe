"""Pledging support for a goal, from the goal's own page."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for

from coalition.extensions import db, limit_submissions
from coalition.forms.pledges import PledgeForm
from coalition.i18n import current_language
from coalition.models import Goal
from coalition.services import content as content_service
from coalition.services import pledging
from coalition.services.addresses import hash_client_address
from coalition.web.petitions import outbox_visible

bp = Blueprint("pledges", __name__)


def pledge_form_for(goal: Goal) -> PledgeForm:
    """The pledge form offering this goal's actions, filled from the request if it was sent."""
    form = PledgeForm()
    form.offer_actions(pledging.offered_actions(goal))
    return form


def render_goal_page(goal: Goal, form: PledgeForm | None = None, too_fast: bool = False) -> str:
    """A goal's page: its text, its confirmed pledges and the pledge form."""
    if form is None:
        form = pledge_form_for(goal)
        form.stamp()
    goals = content_service.goals_in_order()
    counts = pledging.pledge_counts([g.id for g in goals])
    return render_template(
        "public/goal.html",
        goal=goal,
        goals=goals,
        pledge_form=form,
        pledge_count=counts.get(goal.id, 0),
        pledge_scale=max(counts.values(), default=0),
        too_fast=too_fast,
    )


@bp.route("/goals/<slug>/pledge", methods=["GET", "POST"])
@limit_submissions(lambda: current_app.config["PLEDGE_RATE_LIMIT"])
def pledge(slug: str):
    """Take a pledge; show the goal page again with the errors beside the fields if it needs fixing."""
    goal = pledging.get_goal(slug)
    if goal is None:
        abort(404)
    if request.method == "GET":
        return redirect(url_for("public.goal", slug=goal.slug, _anchor="pledge"))
    form = pledge_form_for(goal)
    valid = form.validate()
    reason = form.robot_reason()
    if reason == "honeypot":
        # Robots get the thank-you page; nothing is saved or sent.
        return redirect(url_for("pledges.thanks", slug=goal.slug))
    if reason == "too-fast":
        form.stamp()
    if not valid or reason == "too-fast":
        return render_goal_page(goal, form, too_fast=valid and reason == "too-fast")
    supporter = pledging.Supporter(
        full_name=form.full_name.data,
        email=form.email.data,
        zip_code=form.zip_code.data.split("-", 1)[0] if form.zip_code.data else None,
        country=None if form.zip_code.data else form.country.data,
        language=current_language(),
        client_hash=hash_client_address(request.remote_addr, current_app.config["SECRET_KEY"]),
        wants_updates=bool(form.wants_updates.data),
    )
    pledging.make_pledge(goal, form.actions.data or [], supporter, message=form.message.data or "")
    db.session.commit()
    return redirect(url_for("pledges.thanks", slug=goal.slug))


@bp.get("/goals/<slug>/pledge/thanks")
def thanks(slug: str):
    """The same page after every pledge, new or not: it never says whether one existed."""
    goal = pledging.get_goal(slug)
    if goal is None:
        abort(404)
    return render_template("pledges/thanks.html", goal=goal, outbox=outbox_visible())
