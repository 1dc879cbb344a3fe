"""The pledge form on each goal's page."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from coalition.forms.antispam import AntiSpamMixin, PublicForm
from coalition.i18n import localized
from coalition.models import PledgeAction
from coalition.services.addresses import InvalidEmail, check_email, lookup_zip

#: The longest message a supporter may send with a pledge.
MESSAGE_MAX_LENGTH = 1000
#: What people outside the US may type as their country and still be asked for a ZIP code.
US_NAMES = frozenset({"us", "usa", "u.s.", "u.s.a.", "united states", "united states of america", "america"})


def strip(value):
    """Trim surrounding spaces from text input."""
    return value.strip() if isinstance(value, str) else value


class MultiCheckboxField(SelectMultipleField):
    """A list of checkboxes, one per choice."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def check_email_address(form, field) -> None:
    """Refuse an address that cannot be an email address, saying why."""
    if not field.data:
        return
    try:
        check_email(field.data)
    except InvalidEmail as exc:
        raise ValidationError(_l("Enter an email address like name@example.org.")) from exc


def check_zip_or_country(form, field) -> None:
    """A known 5-digit ZIP code, or (for people outside the US) a country instead."""
    zip_code = (form.zip_code.data or "").strip()
    country = (form.country.data or "").strip()
    if zip_code:
        digits = zip_code.split("-", 1)[0]
        if len(digits) != 5 or not digits.isdigit():
            raise ValidationError(_l("Enter a 5-digit ZIP code, such as 10027."))
        if lookup_zip(digits) is None:
            raise ValidationError(_l("We do not know this ZIP code. Please check it."))
        return
    if not country:
        raise ValidationError(
            _l("Enter your ZIP code, or your country if you live outside the United States.")
        )
    if country.lower() in US_NAMES:
        raise ValidationError(_l("Enter your ZIP code: we use it to find your state legislators."))


class PledgeForm(AntiSpamMixin, PublicForm):
    """Name, email, where the supporter lives, what they pledge to do, and a message."""

    full_name = StringField(
        _l("Your name"),
        filters=[strip],
        validators=[
            DataRequired(_l("Enter your name.")),
            Length(max=200, message=_l("Use 200 characters at most.")),
        ],
        render_kw={"autocomplete": "name"},
    )
    email = EmailField(
        _l("Email"),
        filters=[strip],
        validators=[
            DataRequired(_l("Enter your email address: we send you a link to confirm your pledge.")),
            Length(max=320, message=_l("Use 320 characters at most.")),
            check_email_address,
        ],
        render_kw={"autocomplete": "email", "spellcheck": "false"},
    )
    zip_code = StringField(
        _l("ZIP code"),
        filters=[strip],
        validators=[check_zip_or_country],
        render_kw={"autocomplete": "postal-code", "inputmode": "numeric", "maxlength": "10"},
    )
    country = StringField(
        _l("Country, if you live outside the United States"),
        filters=[strip],
        validators=[Length(max=100, message=_l("Use 100 characters at most."))],
        render_kw={"autocomplete": "country-name"},
    )
    actions = MultiCheckboxField(
        _l("I pledge to"),
        validators=[DataRequired(_l("Choose at least one thing you pledge to do."))],
        validate_choice=True,
        invalid_choice_message=_l("Choose from the list."),
    )
    message = TextAreaField(
        _l("A message to the Coalition"),
        filters=[strip],
        validators=[
            Length(
                max=MESSAGE_MAX_LENGTH,
                message=_l("Use %(max)d characters at most.", max=MESSAGE_MAX_LENGTH),
            )
        ],
        render_kw={"rows": "4", "maxlength": str(MESSAGE_MAX_LENGTH)},
    )

    def offer_actions(self, offered: list[PledgeAction]) -> None:
        """Offer a goal's actions as the checkboxes (call before validating or showing)."""
        self.actions.choices = [SelectChoice(action.key, localized(action, "label")) for action in offered]
        if not self.actions.choices:
            # A goal whose actions were all retired still takes pledges of support.
            self.actions.validators = []
