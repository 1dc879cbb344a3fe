"""Staff forms for legislators' contact details, and for whom a campaign is addressed to."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from coalition.forms.staff import MultiCheckboxField


class LegislatorContactForm(FlaskForm):
    """A legislator's contact details, corrected by hand."""

    email = StringField(_l("Email"), validators=[Optional(), Length(max=320)])
    url = StringField(_l("Official page"), validators=[Optional(), Length(max=500)])
    capitol_address = StringField(_l("Albany office: address"), validators=[Optional(), Length(max=300)])
    capitol_phone = StringField(_l("Albany office: phone"), validators=[Optional(), Length(max=40)])
    district_address = StringField(_l("District office: address"), validators=[Optional(), Length(max=300)])
    district_phone = StringField(_l("District office: phone"), validators=[Optional(), Length(max=40)])


class SignatureDistrictsForm(FlaskForm):
    """A paper signature's districts, set by staff (from what the signer wrote on the sheet)."""

    senate = StringField(_l("Senate district"), validators=[Optional(), Length(max=80)])
    assembly = StringField(_l("Assembly district"), validators=[Optional(), Length(max=80)])


class ForgetCorrectionForm(FlaskForm):
    """"Take Open States' details again at the next reload": CSRF only."""


class AddresseesForm(FlaskForm):
    """Whom a campaign's petition is addressed to, and the email text signers may send."""

    addressed_to = RadioField(
        _l("Addressed to"),
        choices=[
            SelectChoice("none", _l("Nobody named")),
            SelectChoice("governor", _l("The Governor")),
            SelectChoice("legislature", _l("The whole Legislature")),
            SelectChoice("senate", _l("The Senate")),
            SelectChoice("assembly", _l("The Assembly")),
            SelectChoice("committee", _l("The members of a committee")),
            SelectChoice("chosen", _l("Legislators chosen below")),
        ],
        default="none",
    )
    committee = SelectField(_l("Committee"), coerce=int, validate_choice=False)
    legislators = MultiCheckboxField(_l("Chosen legislators"), coerce=int, validate_choice=False)
    mail_subject = StringField(_l("Subject of the email signers may send"), validators=[Optional(), Length(max=200)])
    mail_body = TextAreaField(_l("Text of that email"), validators=[Optional(), Length(max=2000)])
