"""The Flask extensions, created once here and bound to the app in ``create_app``."""

from flask import current_app, request
from flask_babel import Babel
from flask_limiter import Limiter
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from coalition.services.addresses import hash_client_address

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
    """Flask-Login's manager, without its remember-me bookkeeping on visitors' answers."""

    def _update_remember_cookie(self, response):
        # Staff are never offered "remember me"; the base method reads the session on every
        # response, which would make every public page private (and add Vary: Cookie).
        if current_app.config["SESSION_COOKIE_NAME"] not in request.cookies:
            return response
        return super()._update_remember_cookie(response)


login_manager = StaffLoginManager()
babel = Babel()


def client_address_key() -> str:
    """What the limits count by: the keyed hash of the client address (ProxyFix has already
    applied), the same code the site stores, so the limit store (perhaps a shared Redis)
    and the limiter's log lines never hold an address."""
    return hash_client_address(request.remote_addr, current_app.config["SECRET_KEY"]) or "unknown"


limiter = Limiter(key_func=client_address_key, default_limits=[])

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
