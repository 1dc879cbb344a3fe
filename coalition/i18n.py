"""Languages: which one a visitor sees, and picking the right text of bilingual content."""

from __future__ import annotations

from flask import Flask, current_app, request
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

#: Name of the cookie that remembers a visitor's choice of language.
LANGUAGE_COOKIE = "lang"


def select_locale() -> str:
    """The visitor's chosen language, else the browser's preference, else English."""
    languages = current_app.config["LANGUAGES"]
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
}


def status_label(status: str) -> str:
    """A state's name in the reader's language (the stored value if it has none)."""
    label = STATUS_LABELS.get(status)
    return str(label) if label is not None else status


def init_app(app: Flask) -> None:
    """Make the language helpers available to templates."""
    app.jinja_env.filters["localized"] = localized
    app.jinja_env.filters["status_label"] = status_label
    app.jinja_env.globals["current_language"] = current_language
