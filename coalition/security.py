"""Security headers on every response, cross-origin refusal, and ProxyFix behind a proxy."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from flask import Flask, Response, abort, current_app, render_template, request
from werkzeug.middleware.proxy_fix import ProxyFix

from coalition.database import SAFE_METHODS

#: No inline script or style, nothing from another origin, no framing.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'self'",
        "object-src 'none'",
    ]
)


def _origin_of(url: str) -> str:
    parts = urlsplit(url.strip())
    return f"{parts.scheme}://{parts.netloc}".lower()


def trusted_origins(app: Flask) -> frozenset[str]:
    """The site's own origin (``SITE_URL``) and any configured ``TRUSTED_ORIGINS``."""
    extra = app.config.get("TRUSTED_ORIGINS") or []
    if isinstance(extra, str):
        extra = [item for item in extra.replace(",", " ").split() if item]
    return frozenset(_origin_of(url) for url in [app.config["SITE_URL"], *extra])


def is_cross_origin() -> bool:
    """Whether a browser sent this request from another site (fetch metadata, then Origin).

    As Go's ``net/http`` CrossOriginProtection and OWASP's "verifying origin with standard
    headers": ``Sec-Fetch-Site`` says it where the browser sends it (``same-origin`` and
    ``none``, a person's own navigation, pass); else an ``Origin`` that is not the site's
    own is refused; a request with neither comes from no browser (a script, curl, a mail
    provider's one-click unsubscribe) and cannot carry a visitor's credentials, so it passes.
    """
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None:
        return fetch_site.strip().lower() not in ("same-origin", "none")
    origin = request.headers.get("Origin")
    if origin is None:
        return False
    return _origin_of(origin) not in current_app.extensions["coalition_trusted_origins"]


def refuse_cross_origin_requests():
    """Refuse (403, before anything runs or is written) a state-changing request from another site."""
    if request.method in SAFE_METHODS or not is_cross_origin():
        return None
    return render_template("errors/cross_origin.html"), 403


def _form_shaped(value) -> bool:
    return isinstance(value, str) or (isinstance(value, list) and all(isinstance(item, str) for item in value))


#: The file fields each endpoint takes (``accepts_uploads``); every other endpoint takes none.
_UPLOAD_FIELDS: dict[str, frozenset[str]] = {}


def accepts_uploads(endpoint: str, *field_names: str) -> None:
    """Let ``endpoint`` receive files, in the form fields ``field_names`` only."""
    _UPLOAD_FIELDS[endpoint] = frozenset(field_names)


def _has_lone_surrogates(value) -> bool:
    if isinstance(value, str):
        return any("\ud800" <= char <= "\udfff" for char in value)
    if isinstance(value, list):
        return any(_has_lone_surrogates(item) for item in value)
    if isinstance(value, dict):
        return any(_has_lone_surrogates(key) or _has_lone_surrogates(item) for key, item in value.items())
    return False


def refuse_malformed_bodies() -> None:
    """Refuse (400) a body no browser sends from the site's forms: a multipart part without a
    name, a file where the endpoint takes none (a text field sent as a file would reach its
    field's filters as a file), or JSON holding a lone surrogate (no text can be encoded
    with one: the page showing it back would fail).
    """
    if request.method in ("GET", "HEAD", "OPTIONS") or request.routing_exception is not None:
        return
    if request.mimetype == "multipart/form-data":
        if None in request.form or None in request.files or "" in request.files:
            abort(400)
        allowed = _UPLOAD_FIELDS.get(request.endpoint or "", frozenset())
        if any(name not in allowed for name in request.files):
            abort(400)
    elif request.is_json and _has_lone_surrogates(request.get_json(silent=True)):
        abort(400)


def refuse_json_that_is_not_form_data() -> None:
    """Refuse (400) a JSON body sent to a page's form unless it has the shape of form data.

    Flask-WTF reads a JSON body as the form when no form was sent; a number, a list or
    nested objects there would reach the fields' filters and fail with a 500.
    """
    if request.method in ("GET", "HEAD", "OPTIONS") or not request.is_json or request.path.startswith("/api/"):
        return
    data = request.get_json(silent=True)
    if not isinstance(data, dict) or not all(_form_shaped(value) for value in data.values()):
        abort(400)


def refuse_nul_characters() -> None:
    """Refuse (400) a request with a NUL character in its address, query or form fields.

    No real input has one, and PostgreSQL text cannot hold one: it would fail deep in a
    query instead of being turned away here with a clear page.
    """
    if request.routing_exception is not None:
        return  # a 404 or 405 says more than a 400 would
    values = [request.path, *request.args.keys(), *request.args.values()]
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        values += [*request.form.keys(), *request.form.values()]
    if any("\x00" in value for value in values):
        abort(400)


class AddressCheckingProxyFix(ProxyFix):
    """ProxyFix that ignores a forwarded client address that is not an IP address.

    The proxy writes the address it saw; anything else there (a name, text a client slipped
    in) would become the key the limits count by and the hash the site stores. The
    connection's own address is kept instead.
    """

    def __init__(self, app, **trusted) -> None:
        super().__init__(self._check_address, **trusted)
        self.inner_app = app

    def _check_address(self, environ, start_response):
        try:
            ipaddress.ip_address(environ.get("REMOTE_ADDR") or "")
        except ValueError:
            environ["REMOTE_ADDR"] = environ.get("werkzeug.proxy_fix.orig", {}).get("REMOTE_ADDR")
        return self.inner_app(environ, start_response)


def init_app(app: Flask) -> None:
    """Add the headers, and trust ``PROXY_COUNT`` proxies' forwarded headers."""
    proxy_count = int(app.config.get("PROXY_COUNT") or 0)
    if proxy_count > 0:
        app.wsgi_app = AddressCheckingProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxy_count, x_proto=proxy_count, x_host=proxy_count
        )
    app.extensions["coalition_trusted_origins"] = trusted_origins(app)
    # First of all, before the rate limits and the staff forms' CSRF check.
    checks = app.before_request_funcs.setdefault(None, [])
    checks.insert(0, refuse_nul_characters)
    checks.insert(0, refuse_json_that_is_not_form_data)
    checks.insert(0, refuse_malformed_bodies)
    checks.insert(0, refuse_cross_origin_requests)
    production = app.config["ENV"] == "production"

    wanted = [
        ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "strict-origin-when-cross-origin"),
        ("X-Frame-Options", "DENY"),
        ("Cross-Origin-Opener-Policy", "same-origin"),
        ("Permissions-Policy", "camera=(), microphone=(), geolocation=(), interest-cohort=()"),
    ]
    if production:
        wanted.append(("Strict-Transport-Security", "max-age=31536000; includeSubDomains"))
    wanted_lower = [(name.lower(), name, value) for name, value in wanted]

    @app.after_request
    def _security_headers(response: Response) -> Response:
        # Each header unless the view set its own: one pass over the headers, then
        # appends (setdefault scanned them all once per header, on every response).
        headers = response.headers
        present = {name.lower() for name, _ in headers.items()}
        if "content-security-policy" in present and "frame-ancestors" in headers["Content-Security-Policy"]:
            # A view that says who may frame it (a partner's embed): X-Frame-Options can
            # name no one site, and DENY would contradict it.
            present.add("x-frame-options")
        for lower, name, value in wanted_lower:
            if lower not in present:
                headers.add(name, value)
        return response
