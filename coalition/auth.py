"""Staff sessions: loading the logged-in staff member for Flask-Login."""

from __future__ import annotations

from flask import Flask

from coalition.extensions import db, login_manager
from coalition.models import StaffUser


@login_manager.user_loader
def load_staff(session_id: str) -> StaffUser | None:
    """The staff member of a session id ``"<id>:<version>"``, if still valid and active."""
    user_id, _, version = session_id.partition(":")
    if not user_id.isdigit() or not version.isdigit():
        return None
    user = db.session.get(StaffUser, int(user_id))
    if user is None or not user.active or user.session_version != int(version):
        return None
    return user


def init_app(app: Flask) -> None:
    """Configure where anonymous visitors to staff pages are sent."""
    login_manager.login_view = "staff.login" if "staff.login" in app.view_functions else None
    # No "strong" protection: it compares a hash of the client address (taken from
    # X-Forwarded-For, which any client can send) and the user agent, so it could be
    # satisfied by a thief and logged staff out whose phone changed network. The session
    # version, checked above on every request, is what ends sessions.
    login_manager.session_protection = None
