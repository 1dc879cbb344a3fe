"""The sign form: every field checked on the server, with a clear message beside it."""

from __future__ import annotations

import re
import unicodedata

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, SelectMultipleField, StringField, TextAreaField
from wtforms.widgets import CheckboxInput, ListWidget
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from coalition.forms.antispam import AntiSpamMixin, PublicForm
from coalition.services.addresses import InvalidEmail, Place, check_email, lookup_zip

#: Longest comment a signer may leave.
COMMENT_MAX_LENGTH = 500
NAME_MAX_LENGTH = 200
#: The longest address the mail standards allow in practice.
EMAIL_MAX_LENGTH = 254
COUNTRY_MAX_LENGTH = 100

#: Characters that reorder or hide text: they have no place in a name, and let a
#: name on the public wall pretend to be something else.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
_ZIP = re.compile(r"^\d{5}(?:-?\d{4})?$")
_LINK = re.compile(r"(?i)(?:https?://|www\.)")
#: What signers abroad may not give as their country: US signers give a ZIP code.
_US_NAMES = frozenset(
    {"us", "u.s.", "usa", "u.s.a.", "united states", "united states of america", "america", "estados unidos", "eeuu", "ee.uu."}
)


def one_line(value: str | None) -> str | None:
    """Filter: NFC-normalised, whitespace runs collapsed to one space, trimmed."""
    if value is None:
        return None
    return " ".join(unicodedata.normalize("NFC", value).split())


def multi_line(value: str | None) -> str | None:
    """Filter: NFC-normalised, one newline per line break (as browsers count), trimmed."""
    if value is None:
        return None
    return unicodedata.normalize("NFC", value).replace("\r\n", "\n").replace("\r", "\n").strip()


def _has_control_characters(value: str, allow_newlines: bool) -> bool:
    for char in value:
        if allow_newlines and char in "\n\t":
            continue
        if unicodedata.category(char) in ("Cc", "Zl", "Zp") or char in _BIDI_CONTROLS:
            return True
    return False


def no_control_characters(form, field) -> None:
    """Validator: no invisible control characters in a one-line field."""
    if field.data and _has_control_characters(field.data, allow_newlines=False):
        raise ValidationError(_l("Please remove the invisible control characters from this field."))


def has_a_letter(form, field) -> None:
    """Validator: at least one letter (in any alphabet)."""
    if field.data and not any(unicodedata.category(char).startswith("L") for char in field.data):
        raise ValidationError(_l("Please write this with letters."))


def _length(maximum: int) -> Length:
    return Length(max=maximum, message=_l("Please use at most %(max)d characters."))


class SignForm(AntiSpamMixin, PublicForm):
    """Sign a campaign: name, email, ZIP code (or country abroad), comment and two choices."""

    full_name = StringField(
        _l("Full name"),
        filters=[one_line],
        validators=[
            DataRequired(message=_l("Please enter your name.")),
            _length(NAME_MAX_LENGTH),
            no_control_characters,
            has_a_letter,
        ],
        render_kw={"autocomplete": "name", "maxlength": NAME_MAX_LENGTH, "spellcheck": "false"},
    )
    email = EmailField(
        _l("Email"),
        filters=[one_line],
        validators=[DataRequired(message=_l("Please enter your email address.")), _length(EMAIL_MAX_LENGTH)],
        render_kw={"autocomplete": "email", "maxlength": EMAIL_MAX_LENGTH, "spellcheck": "false", "autocapitalize": "off"},
    )
    zip_code = StringField(
        _l("ZIP code"),
        filters=[one_line],
        validators=[_length(10)],
        render_kw={"autocomplete": "postal-code", "inputmode": "numeric", "maxlength": 10, "class": "input-short"},
    )
    country = StringField(
        _l("Country, if you live outside the US"),
        filters=[one_line],
        validators=[Optional(), _length(COUNTRY_MAX_LENGTH), no_control_characters, has_a_letter],
        render_kw={"autocomplete": "country-name", "maxlength": COUNTRY_MAX_LENGTH},
    )
    comment = TextAreaField(
        _l("Comment"),
        filters=[multi_line],
        validators=[Optional(), _length(COMMENT_MAX_LENGTH)],
        render_kw={"maxlength": COMMENT_MAX_LENGTH, "rows": 4},
    )
    show_publicly = BooleanField(_l("Show my first name and city on this page"), default=False)
    wants_updates = BooleanField(_l("Keep me updated by email"), default=False)
    #: "I also pledge to support ..." one box per goal the campaign advances; the view
    #: sets the choices (goal slugs and titles). Only offered goals are accepted.
    also_pledge = SelectMultipleField(
        _l("I also pledge to support"),
        choices=[],
        validate_choice=True,
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )

    #: The place of the ZIP code, once validated.
    place: Place | None = None

    def validate_full_name(self, field) -> None:
        """A name, not an address or a link (robots put those here)."""
        if field.data and ("@" in field.data or _LINK.search(field.data)):
            raise ValidationError(_l("Please give just your name here."))

    def validate_email(self, field) -> None:
        """A real-looking address (no DNS look-up: the confirmation email proves the rest)."""
        if not field.data:
            return
        if _has_control_characters(field.data, allow_newlines=False):
            raise ValidationError(_l("Please remove the invisible control characters from this field."))
        try:
            check_email(field.data)
        except InvalidEmail as exc:
            raise ValidationError(_l("Please enter a real email address, like name@example.com.")) from exc

    def validate_zip_code(self, field) -> None:
        """A known US ZIP code, or none for a signer abroad who gives a country."""
        self.place = None
        if not field.data:
            country = (self.country.data or "").strip().lower()
            if not country:
                raise ValidationError(
                    _l("Please enter your ZIP code, or your country if you live outside the US.")
                )
            if country in _US_NAMES:
                raise ValidationError(_l("Please enter your ZIP code: it tells us your city and county."))
            return
        if not _ZIP.match(field.data):
            raise ValidationError(_l("Please enter a 5-digit ZIP code, like 10027."))
        self.place = lookup_zip(field.data)
        if self.place is None:
            raise ValidationError(
                _l("We do not know this ZIP code. Please check it, or leave it empty and give your "
                   "country if you live outside the US.")
            )

    def validate_comment(self, field) -> None:
        """Plain text: line breaks and tabs are fine, other control characters are not."""
        if field.data and _has_control_characters(field.data, allow_newlines=True):
            raise ValidationError(_l("Please remove the invisible control characters from this field."))
