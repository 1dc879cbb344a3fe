"""Error pages in the site's own look."""

from __future__ import annotations

import logging
from datetime import datetime, timezone

from flask import Flask, current_app, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from coalition.extensions import db, limiter

log = logging.getLogger(__name__)

#: When to ask a visitor to come back after the database refused a request.
STORAGE_RETRY_AFTER_SECONDS = 120

def _seconds_until_retry() -> int | None:
    """How long until the limit that was hit lets the client in again."""
    try:
        current = limiter.current_limit
    except Exception:  # the limiter's storage may be what failed
        return None
    if current is None:
        return None
    return max(1, int(current.reset_at - datetime.now(timezone.utc).timestamp()))


def init_app(app: Flask) -> None:
    """Register the handlers."""

    @app.errorhandler(CSRFError)
    def _csrf_error(error: CSRFError):
        return render_template("errors/csrf.html", back=request.path), 400

    @app.errorhandler(429)
    def _too_many_requests(error: HTTPException):
        seconds = _seconds_until_retry()
        response = current_app.make_response(
            (render_template("errors/429.html", seconds=seconds), 429)
        )
        if seconds:
            response.headers["Retry-After"] = str(seconds)
        return response

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        code = error.code or 500
        if request.path.startswith("/api/"):
            return {"error": error.name, "status": code}, code
        template = f"errors/{code}.html" if code in (400, 403, 404, 405, 413) else "errors/generic.html"
        return render_template(template, error=error, code=code), code

    @app.errorhandler(OperationalError)
    def _storage_unavailable(error: OperationalError):
        # The database cannot be reached or written (disk full, read-only, locked too
        # long): a fault of the server, not of the request. The transaction rolled back,
        # so nothing of the request was saved; say so, and when to try again. Only the
        # driver's own message is logged: SQL parameters may hold personal data.
        reason = str(getattr(error, "orig", "") or error.__class__.__name__).splitlines()[0][:200]
        log.error("database unavailable on %s %s: %s", request.method, request.endpoint, reason)
        try:
            db.session.rollback()
        except Exception:  # a broken connection may refuse even this; the pool replaces it
            log.warning("rollback failed after a database error")
        if request.path.startswith("/api/"):
            response = current_app.make_response(({"error": "Service Unavailable", "status": 503}, 503))
        else:
            response = current_app.make_response((render_template("errors/503.html"), 503))
        response.headers["Retry-After"] = str(STORAGE_RETRY_AFTER_SECONDS)
        return response

    @app.errorhandler(Exception)
    def _server_error(error: Exception):
        # Never put request data here: it may hold a supporter's name or email.
        log.exception("unhandled error on %s %s", request.method, request.endpoint)
        db.session.rollback()
        return render_template("errors/500.html"), 500

    @app.errorhandler(500)
    def _internal_error(error):
        db.session.rollback()
        return render_template("errors/500.html"), 500
