"""The staff dashboard: where each campaign stands."""

from __future__ import annotations

from flask import render_template

from coalition.services import dashboard as dashboard_service
from coalition.web.staff import bp


@bp.get("/")
def dashboard():
    """Per campaign: counts, progress, signatures per day, pledges, endorsements, counties."""
    return render_template("staff/dashboard.html", overview=dashboard_service.overview())
