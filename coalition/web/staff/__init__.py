"""The staff area under ``/staff``: one blueprint, split into modules by task.

Every view needs a logged-in, active staff member, except the login page; views
marked ``admin_only`` also need the admin role. Every form sent here carries Flask-WTF's
session-bound CSRF token as well as passing the site-wide cross-origin check (defence in
depth). The checks run before the view, in ``before_request``, so no view can forget
them. Staff pages are never cached.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from flask import Blueprint, abort, current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, logout_user

from coalition.database import SAFE_METHODS
from coalition.extensions import csrf
from coalition.web.caching import PRIVATE

bp = Blueprint("staff", __name__, url_prefix="/staff")

#: Endpoints anyone may open.
PUBLIC_ENDPOINTS = frozenset({"staff.login"})
#: Session key holding when the staff member last made a request (Unix seconds).
LAST_SEEN_KEY = "staff_seen"


def admin_only(view: Callable) -> Callable:
    """Mark a view as reserved to admins (checked in ``before_request``)."""
    view.staff_role = "admin"  # type: ignore[attr-defined]
    return view


def required_role(endpoint: str) -> str:
    """The role a staff endpoint needs: "admin", or "organizer" (any staff)."""
    view = current_app.view_functions.get(endpoint)
    return getattr(view, "staff_role", "organizer")


def _login_redirect():
    target = request.full_path if request.query_string else request.path
    return redirect(url_for("staff.login", next=target if request.method == "GET" else None))


@bp.before_request
def _require_staff():
    if request.method not in SAFE_METHODS and current_app.config["WTF_CSRF_ENABLED"]:
        csrf.protect()
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if not current_user.is_authenticated:
        return _login_redirect()
    now = int(time.time())
    idle_limit = int(current_app.config.get("STAFF_IDLE_MINUTES", 30)) * 60
    last_seen = session.get(LAST_SEEN_KEY)
    if not isinstance(last_seen, int) or now - last_seen > idle_limit:
        logout_user()
        session.clear()
        flash(_("You were logged out after a time without activity. Please log in again."), "info")
        return _login_redirect()
    session[LAST_SEEN_KEY] = now
    if required_role(request.endpoint or "") == "admin" and not current_user.is_admin:
        abort(403)
    return None


@bp.context_processor
def _staff_member() -> dict:
    return {"current_user": current_user}


@bp.after_request
def _no_store(response):
    # Staff pages show supporters' names and emails: no browser or proxy may keep them.
    response.headers["Cache-Control"] = PRIVATE
    response.headers["Pragma"] = "no-cache"
    return response


# The views register themselves on ``bp`` when imported.
from coalition.web.staff import (  # noqa: E402,F401
    accounts,
    campaigns,
    dashboard,
    exports,
    moderation,
    paper,
    privacy,
)
