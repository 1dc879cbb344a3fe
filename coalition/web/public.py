"""Public pages: the mission, the goals, the campaigns list, and the site's notices."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, request

from coalition.extensions import db
from coalition.forms import antispam
from coalition.models import Goal
from coalition.services import campaigns as campaign_service
from coalition.services import content as content_service
from coalition.services import pledging
from coalition.web.pledges import render_goal_page
from coalition.urls import language_prefix, safe_next
from coalition.web.caching import public_page

bp = Blueprint("public", __name__)


@bp.get("/")
@public_page
def home():
    """The mission and the featured campaign first, then the goals, the other open
    campaigns, the beliefs and how to get involved."""
    open_campaigns = campaign_service.open_campaigns()
    featured = campaign_service.featured_campaign(open_campaigns)
    goals = content_service.goals_in_order()
    return render_template(
        "public/home.html",
        blocks=content_service.content_blocks(),
        goals=goals,
        pledge_counts=pledging.pledge_counts([goal.id for goal in goals]),
        beliefs=content_service.beliefs_in_order(),
        featured=featured,
        other_campaigns=[c for c in open_campaigns if c is not featured],
        counts=campaign_service.confirmed_counts([c.id for c in open_campaigns]),
    )


@bp.get("/goals/<slug>")
@public_page
def goal(slug: str):
    """One goal's page, with its pledge count and pledge form."""
    goal = db.session.execute(db.select(Goal).filter_by(slug=slug)).scalar_one_or_none()
    if goal is None:
        abort(404)
    return render_goal_page(goal)


@bp.get("/campaigns")
@public_page
def campaigns():
    """Every public campaign: open ones, then closed ones."""
    all_campaigns = campaign_service.public_campaigns()
    open_ones = [c for c in all_campaigns if campaign_service.is_signable(c)]
    closed_ones = [c for c in all_campaigns if not campaign_service.is_signable(c)]
    return render_template(
        "public/campaigns.html",
        open_campaigns=open_ones,
        closed_campaigns=closed_ones,
        counts=campaign_service.confirmed_counts([c.id for c in all_campaigns]),
    )


@bp.get("/about")
@public_page
def about():
    """Who the coalition is and what it believes."""
    return render_template(
        "public/about.html",
        blocks=content_service.content_blocks(),
        beliefs=content_service.beliefs_in_order(),
        goals=content_service.goals_in_order(),
    )


@bp.get("/contact")
@public_page
def contact():
    """How to reach the coalition."""
    return render_template("public/contact.html", blocks=content_service.content_blocks())


@bp.get("/privacy")
@public_page
def privacy():
    """What the site collects from supporters, why, for how long, and how to have it erased."""
    return render_template("public/privacy.html", blocks=content_service.content_blocks())


@bp.get("/accessibility")
@public_page
def accessibility():
    """The accessibility statement."""
    return render_template("public/accessibility.html", blocks=content_service.content_blocks())


@bp.get("/language/<code>")
def set_language(code: str):
    """The old language switch: the page asked for, at its address in that language."""
    if code not in current_app.config["LANGUAGES"]:
        abort(404)
    target = safe_next(request.args.get("next"), "/")
    return redirect(language_prefix(code) + target)


@bp.get("/form-stamp")
def form_stamp():
    """A freshly signed form time, for the script that fills it in when a form is shown.

    Pages with forms are kept by caches for a while, so the time rendered into them may
    be older than the visitor's visit; this answer is never kept.
    """
    return {"stamp": antispam.form_stamp()}
