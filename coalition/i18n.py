"""Languages: which one a visitor sees, and picking the right text of bilingual content."""

from __future__ import annotations

from flask import Flask, current_app, request
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

#: Name of the cookie that remembers a visitor's choice of language.
LANGUAGE_COOKIE = "lang"


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
    """The language of the address, else the visitor's chosen language, else the browser's
    preference, else English."""
    languages = current_app.config["LANGUAGES"]
    in_address = request.environ.get(LANGUAGE_ENVIRON_KEY)
    if in_address in languages:
        return in_address
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if chosen in languages:
        return chosen
    return request.accept_languages.best_match(languages) or languages[0]


def current_language() -> str:
    """The language code of the current request ("en" or "es")."""
    locale = get_locale()
    return locale.language if locale else "en"


def localized(obj, attribute: str) -> str:
    """``obj.<attribute>_es`` when the visitor reads Spanish and it is filled in, else English."""
    if current_language() == "es":
        value = getattr(obj, f"{attribute}_es", "")
        if value:
            return value
    return getattr(obj, attribute)


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
    app.jinja_env.globals["current_language"] = current_language
