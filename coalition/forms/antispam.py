"""The public forms' base (no session, no CSRF token), a honeypot field and a signed time check."""

from __future__ import annotations

import time
from functools import lru_cache

from babel.support import Translations
from flask import current_app
from flask_wtf import FlaskForm
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, StringField
from wtforms.i18n import messages_path

from coalition.tokens import TokenInvalid, make_token, read_token

#: A person cannot fill a form in less than this many seconds.
DEFAULT_MIN_FILL_SECONDS = 3
#: A form older than this is stale (its CSRF token has expired too).
MAX_FORM_AGE_SECONDS = 24 * 3600


def form_stamp() -> str:
    """The current time, signed: the value of a form's ``form_started`` field.

    The token holds whole seconds only, so it is the same for every form shown within
    one second: it is signed once per second (per process) rather than once per page.
    """
    now = int(time.time())
    key = (current_app.config["SECRET_KEY"], now)
    if _last_stamp[0] != key:
        _last_stamp[:] = [key, make_token("form-time", now)]
    return _last_stamp[1]


_last_stamp: list = [None, ""]


@lru_cache(maxsize=8)
def _wtforms_translations(locale: str) -> Translations:
    return Translations.load(messages_path(), [locale], domain="wtforms")


class PublicForm(FlaskForm):
    """A form anyone may send, with no session: so no CSRF token.

    A request from another site is refused before any view runs, by the browser's fetch
    metadata (``coalition.security.refuse_cross_origin_requests``); a token would need a
    session cookie, which would make every page that shows a form uncacheable.
    """

    class Meta:
        csrf = False

        def get_translations(self, form):
            """WTForms' own messages in the visitor's language, from a catalog loaded once
            per language (Flask-WTF reads it from disk again for every request)."""
            return _wtforms_translations(str(get_locale() or "en"))


class AntiSpamMixin:
    """Add to a PublicForm: a field people never see, and when the form was served.

    ``robot_reason()`` says why a submission looks automated ("honeypot" or
    "too-fast"), or None. Views treat it softly: a honeypot hit gets the normal
    thank-you page and nothing is saved; a too-fast one gets the form back with a
    request to check and send it again, so a very fast person loses nothing.
    """

    #: The honeypot: hidden by CSS and from assistive technology; robots fill it in.
    homepage = StringField(
        _l("Leave this field empty"),
        render_kw={"autocomplete": "off", "tabindex": "-1"},
    )
    #: Signed time the form was served.
    form_started = HiddenField()

    def stamp(self) -> None:
        """Sign the current time into the form (call when showing the form)."""
        self.form_started.data = form_stamp()

    def robot_reason(self) -> str | None:
        """Why this submission looks automated, or None."""
        if (self.homepage.data or "").strip():
            return "honeypot"
        minimum = current_app.config.get("FORM_MIN_FILL_SECONDS", DEFAULT_MIN_FILL_SECONDS)
        try:
            started = int(read_token("form-time", self.form_started.data or "", MAX_FORM_AGE_SECONDS))
        except (TokenInvalid, ValueError, TypeError):
            return "too-fast"
        if time.time() - started < minimum:
            return "too-fast"
        return None
