"""The Flask extensions, created once here and bound to the app in ``create_app``."""

from flask import current_app, request, session
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

#: Constraint names are fixed so that migrations are the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base for every model."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
csrf = CSRFProtect()


class StaffLoginManager(LoginManager):
    """Flask-Login's manager, protecting only sessions that hold a staff member.

    With "strong" protection, Flask-Login checks every non-empty session against the
    browser's identity, and an anonymous visitor's session (a CSRF token only) never
    matches: it was emptied of login keys, re-signed and sent again, with a cookie
    deletion, on every page. Nothing in it needs protecting, so it is left alone.
    """

    def _update_remember_cookie(self, response):
        # Staff are never offered "remember me"; the base method reads the session on every
        # response, which would make every public page private (and add Vary: Cookie).
        if current_app.config["SESSION_COOKIE_NAME"] not in request.cookies:
            return response
        return super()._update_remember_cookie(response)

    def _session_protection_failed(self) -> bool:
        if "_user_id" not in session:
            return False
        return super()._session_protection_failed()


login_manager = StaffLoginManager()
babel = Babel()


def _client_address() -> str:
    """The client address the limits count by (ProxyFix has already applied)."""
    return get_remote_address() or request.remote_addr or "unknown"


limiter = Limiter(key_func=_client_address, default_limits=[])

#: Views whose only limits count form submissions (POSTs).
_SUBMISSION_LIMITED_VIEWS: set = set()


def limit_submissions(limit_value):
    """``limiter.limit(limit_value, methods=["POST"])``, for a view that shows a form on GET.

    Reading such a page is never limited, so the limiter is skipped altogether for its
    GET and HEAD requests (and adds no rate-limit headers to a page caches keep).
    """

    def decorate(view):
        limited = limiter.limit(limit_value, methods=["POST"])(view)
        _SUBMISSION_LIMITED_VIEWS.add(limited)
        return limited

    return decorate


@limiter.request_filter
def _reading_a_form_page() -> bool:
    if request.method not in ("GET", "HEAD"):
        return False
    return current_app.view_functions.get(request.endpoint) in _SUBMISSION_LIMITED_VIEWS
