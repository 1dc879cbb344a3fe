"""Languages: which one a visitor sees, and picking the right text of bilingual content."""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache

from flask import Flask, current_app, request
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from coalition.urls import language_prefix

#: Each language's name, in that language (the switcher shows them so).
LANGUAGE_NAMES = {"en": "English", "es": "Español"}


#: WSGI environ key: the language named by the address's prefix (``/es/...``).
LANGUAGE_ENVIRON_KEY = "coalition.language"


class LanguagePrefix:
    """WSGI middleware: ``/es/...`` is the Spanish site.

    The prefix moves from the path into ``SCRIPT_NAME``, so every view, route and
    ``url_for`` works unchanged, and every link a Spanish page builds stays Spanish.
    """

    def __init__(self, wsgi_app, languages: list[str], default: str) -> None:
        self.wsgi_app = wsgi_app
        self.prefixes = [("/" + code, code) for code in languages if code != default]

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        for prefix, code in self.prefixes:
            if path == prefix or path.startswith(prefix + "/"):
                environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "").rstrip("/") + prefix
                environ["PATH_INFO"] = path[len(prefix):] or "/"
                environ[LANGUAGE_ENVIRON_KEY] = code
                break
        return self.wsgi_app(environ, start_response)


def select_locale() -> str:
    """The language of the address: ``/es/...`` is Spanish, every other address English.

    Never a cookie or the browser's preference: a public page must be the same bytes
    for everyone who asks for its address, so that caches may keep it.
    """
    in_address = request.environ.get(LANGUAGE_ENVIRON_KEY)
    if in_address in current_app.config["LANGUAGES"]:
        return in_address
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def current_language() -> str:
    """The language code of the current request ("en" or "es")."""
    locale = get_locale()
    return locale.language if locale else "en"


def _site_root() -> str:
    """The path the site is served under, without the current language's prefix."""
    root = request.script_root
    prefix = language_prefix(current_language())
    return root[: -len(prefix)] if prefix and root.endswith(prefix) else root


def page_in(language: str, absolute: bool = False) -> str:
    """The current page's address in ``language`` (its path only: a query string a visitor
    added must not end up in a page that caches keep for everyone)."""
    if absolute:
        return current_app.config["SITE_URL"].rstrip("/") + language_prefix(language) + request.path
    return _site_root() + language_prefix(language) + request.path


def language_versions() -> list[dict]:
    """For the switcher and the ``hreflang`` links: each language's code, name and address."""
    return [
        {"code": code, "name": LANGUAGE_NAMES.get(code, code), "url": page_in(code), "absolute": page_in(code, True)}
        for code in current_app.config["LANGUAGES"]
    ]


@lru_cache(maxsize=64)
def _asset_version(path: str, mtime: float) -> str:
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()[:12]


def asset_url(filename: str) -> str:
    """A static file's address, the same in every language, with its content's fingerprint
    as ``?v=`` so that it can be kept for a year and changes address when it changes."""
    path = os.path.join(current_app.static_folder or "", filename)
    version = _asset_version(path, os.path.getmtime(path))
    return f"{_site_root()}{current_app.static_url_path}/{filename}?v={version}"


def localized(obj, attribute: str) -> str:
    """``obj.<attribute>_es`` when the visitor reads Spanish and it is filled in, else English."""
    if current_language() == "es":
        value = getattr(obj, f"{attribute}_es", "")
        if value:
            return value
    return getattr(obj, attribute)


def untranslated(obj, attribute: str) -> Markup:
    """`` lang="en"`` for an element showing ``obj.<attribute>`` in English on a Spanish page
    (its Spanish text is empty), so a screen reader reads it in English; else nothing."""
    if current_language() != "en" and not getattr(obj, f"{attribute}_es", "") and getattr(obj, attribute, ""):
        return Markup(' lang="en"')
    return Markup("")


#: The words for the states of campaigns, signatures and endorsements, in the reader's language.
STATUS_LABELS = {
    "draft": _l("draft"),
    "open": _l("open"),
    "closed": _l("closed"),
    "archived": _l("archived"),
    "pending": _l("pending"),
    "confirmed": _l("confirmed"),
    "invalidated": _l("invalidated"),
    "submitted": _l("submitted"),
    "verified": _l("verified"),
    "rejected": _l("rejected"),
    "withdrawn": _l("withdrawn"),
    "queueing": _l("being queued"),
    "sending": _l("sending"),
    "sent": _l("sent"),
    "cancelled": _l("cancelled"),
}


#: What came of a campaign, in the reader's language.
OUTCOME_LABELS = {
    "delivered": _l("Delivered"),
    "won": _l("Won"),
    "lost": _l("Lost"),
    "no_result": _l("Closed without a result"),
}


def outcome_label(outcome: str | None) -> str:
    """A campaign outcome's name in the reader's language ("" for none)."""
    label = OUTCOME_LABELS.get(outcome or "")
    return str(label) if label is not None else ""


def status_label(status: str) -> str:
    """A state's name in the reader's language (the stored value if it has none)."""
    label = STATUS_LABELS.get(status)
    return str(label) if label is not None else status


def init_app(app: Flask) -> None:
    """Serve the languages at their prefixes; make the language helpers available to templates."""
    app.wsgi_app = LanguagePrefix(  # type: ignore[method-assign]
        app.wsgi_app, app.config["LANGUAGES"], app.config["BABEL_DEFAULT_LOCALE"]
    )
    app.jinja_env.filters["localized"] = localized
    app.jinja_env.filters["status_label"] = status_label
    app.jinja_env.filters["outcome_label"] = outcome_label
    app.jinja_env.filters["untranslated"] = untranslated
    app.jinja_env.globals["current_language"] = current_language
    app.jinja_env.globals["language_versions"] = language_versions
    app.jinja_env.globals["asset_url"] = asset_url
