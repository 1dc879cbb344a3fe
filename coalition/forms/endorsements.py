"""The "Endorse as an organization" form."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, SelectField, StringField, TelField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from coalition.forms.antispam import AntiSpamMixin, PublicForm
from coalition.forms.petitions import plain_name
from coalition.forms.pledges import check_email_address, strip
from coalition.services.addresses import lookup_zip
from coalition.services.endorsing import (
    ORGANIZATION_TYPE_LABELS,
    STATEMENT_MAX_LENGTH,
    InvalidWebsite,
    website_address,
)

_PHONE_CHARACTERS = re.compile(r"^[0-9 +().\-/extEXT]+$")


def check_website(form, field) -> None:
    """An http or https address of a website."""
    if not field.data:
        return
    try:
        website_address(field.data)
    except InvalidWebsite as exc:
        raise ValidationError(
            _l("Enter the address of the organization’s website, such as https://www.example.org.")
        ) from exc


def check_phone(form, field) -> None:
    """A phone number: digits with the usual separators, and an extension if any."""
    if not field.data:
        return
    digits = sum(ch.isdigit() for ch in field.data)
    if not _PHONE_CHARACTERS.match(field.data) or digits < 7 or digits > 20:
        # Non-breaking hyphens (U+2011): the example number never splits across two lines.
        raise ValidationError(_l("Enter a phone number such as 212\u2011254\u20115700, or leave it empty."))


def _max(length: int):
    return Length(max=length, message=_l("Use %(max)d characters at most.", max=length))


def _check_organization_zip(form, field) -> None:
    """A known US ZIP code (optional): it places the organization in its legislators' districts."""
    if field.data and (not re.fullmatch(r"\d{5}", field.data) or lookup_zip(field.data) is None):
        raise ValidationError(_l("Please enter a 5-digit US ZIP code, like 10027, or leave it empty."))


class EndorseForm(AntiSpamMixin, PublicForm):
    """Who the organization is, who speaks for it, its statement, and the two declarations."""

    organization_name = StringField(
        _l("Organization’s name"),
        filters=[strip],
        validators=[
            DataRequired(_l("Enter the organization’s name.")),
            _max(200),
            plain_name(_l("Please give just the organization’s name here, without its web address.")),
        ],
        render_kw={"autocomplete": "organization"},
    )
    website = StringField(
        _l("Organization’s website"),
        filters=[strip],
        validators=[DataRequired(_l("Enter the organization’s website.")), _max(500), check_website],
        render_kw={"autocomplete": "url", "inputmode": "url", "spellcheck": "false"},
    )
    org_type = SelectField(
        _l("Type of organization"),
        choices=[SelectChoice("", _l("Choose one"))]
        + [SelectChoice(key, label) for key, label in ORGANIZATION_TYPE_LABELS.items()],
        validators=[DataRequired(_l("Choose the type of organization."))],
        validate_choice=True,
        invalid_choice_message=_l("Choose from the list."),
    )
    locality = StringField(
        _l("City or county where it works"),
        filters=[strip],
        validators=[
            DataRequired(_l("Enter the city or county where the organization works.")),
            _max(100),
            plain_name(_l("Please give just the city or county here.")),
        ],
        render_kw={"autocomplete": "address-level2"},
    )
    zip_code = StringField(
        _l("ZIP code of the organization"),
        filters=[strip],
        validators=[Optional(), _check_organization_zip],
        render_kw={"autocomplete": "postal-code", "inputmode": "numeric", "maxlength": 10},
    )
    contact_name = StringField(
        _l("Your name"),
        filters=[strip],
        validators=[DataRequired(_l("Enter your name.")), _max(200), plain_name()],
        render_kw={"autocomplete": "name"},
    )
    contact_role = StringField(
        _l("Your role in the organization"),
        filters=[strip],
        validators=[
            DataRequired(_l("Enter your role, such as Executive Director.")),
            _max(200),
            plain_name(_l("Please give just your role here.")),
        ],
        render_kw={"autocomplete": "organization-title"},
    )
    contact_email = EmailField(
        _l("Your email"),
        filters=[strip],
        validators=[
            DataRequired(_l("Enter your email address: we send you a link to confirm the endorsement.")),
            _max(320),
            check_email_address,
        ],
        render_kw={"autocomplete": "email", "spellcheck": "false"},
    )
    contact_phone = TelField(
        _l("Your phone number"),
        filters=[strip],
        validators=[Optional(), _max(40), check_phone],
        render_kw={"autocomplete": "tel"},
    )
    statement = TextAreaField(
        _l("The organization’s statement of support"),
        filters=[strip],
        validators=[_max(STATEMENT_MAX_LENGTH)],
        render_kw={"rows": "6", "maxlength": str(STATEMENT_MAX_LENGTH)},
    )
    authorized = BooleanField(
        _l("I am authorized to endorse on behalf of this organization"),
        validators=[DataRequired(_l("Only someone authorized by the organization may endorse for it."))],
    )
    public_consent = BooleanField(
        _l("Show the organization’s name and statement publicly on this site"),
    )


class EndorsementLinkForm(PublicForm):
    """The button behind an emailed link (confirm or withdraw): CSRF only."""
