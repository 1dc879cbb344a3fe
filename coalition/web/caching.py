"""HTTP caching of public pages: the same bytes for every anonymous visitor, said so.

A public page (marked with ``public_page``) answers an anonymous GET with
``Cache-Control: public, max-age=0, s-maxage=PUBLIC_CACHE_SECONDS`` and an ``ETag``:
a shared cache (nginx, see ``deploy/nginx.conf``) keeps it for that long, a browser
revalidates it each time (a 304 when nothing changed), so a signer who goes back after
confirming sees the new count. A campaign page is never kept past the campaign's
closing time (``keep_until``).

Everything else, and any answer that touched the session (staff, a flashed message) or
sets a cookie, is ``private, no-store``. Responses that chose their own
``Cache-Control`` (static files, the JSON API) keep it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime

from flask import Flask, Response, current_app, g, request
from flask.sessions import SecureCookieSessionInterface

from coalition.models.types import utcnow

PRIVATE = "private, no-store"


def public_page(view: Callable) -> Callable:
    """Mark a view whose GET answers are the same for every anonymous visitor."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        g.public_page = True
        return view(*args, **kwargs)

    return wrapper


def keep_until(moment: datetime | None) -> None:
    """Let no cache keep the current page past ``moment`` (a campaign's closing)."""
    if moment is None:
        return
    current = g.get("public_until")
    g.public_until = moment if current is None else min(current, moment)


def _shared_cache_seconds() -> int:
    seconds = int(current_app.config["PUBLIC_CACHE_SECONDS"])
    until = g.get("public_until")
    if until is not None:
        seconds = min(seconds, int((until - utcnow()).total_seconds()))
    return max(0, seconds)


def _is_public(response: Response) -> bool:
    return (
        g.get("public_page", False)
        and request.method in ("GET", "HEAD")
        and response.status_code == 200
        and "Set-Cookie" not in response.headers
    )


def cache_headers(response: Response) -> Response:
    """Say who may keep ``response``, and answer a revalidation of a public page with a 304.

    Whether the session was used is known only once the session is saved, after every
    ``after_request`` function: ``PrivateWhenUsedSessionInterface`` has the last word.
    """
    if _is_public(response):
        response.headers["Cache-Control"] = f"public, max-age=0, s-maxage={_shared_cache_seconds()}"
        response.add_etag()
        return response.make_conditional(request)
    if "Cache-Control" not in response.headers or g.get("public_page", False):
        response.headers["Cache-Control"] = PRIVATE
    return response


class PrivateWhenUsedSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, which makes any answer that read or wrote it private.

    (Flask's ``session`` proxy marks the session used on any access, so only the session
    interface, handed the session object itself, can tell.)
    """

    def save_session(self, app: Flask, session, response: Response) -> None:
        super().save_session(app, session, response)
        if session.accessed or "Set-Cookie" in response.headers:
            response.headers["Cache-Control"] = PRIVATE


def init_app(app: Flask) -> None:
    """Add the caching headers to every response."""
    app.session_interface = PrivateWhenUsedSessionInterface()
    app.after_request(cache_headers)
