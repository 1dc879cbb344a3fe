"""Forms of the staff area: fields and validation only."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as _lp
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    EmailField,
    HiddenField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import CheckboxInput, ListWidget
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length, NumberRange, Optional, ValidationError

from coalition.services.districts import parse_district
from coalition.services.staff import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH

ROLE_CHOICES = [
    SelectChoice("organizer", _l("Organizer")),
    SelectChoice("admin", _l("Admin (also manages staff and sees the audit log)")),
]


def _password_length(form, field) -> None:
    if len(field.data or "") < MIN_PASSWORD_LENGTH:
        raise ValidationError(_l("Use at least %(n)s characters.", n=MIN_PASSWORD_LENGTH))
    if len(field.data or "") > MAX_PASSWORD_LENGTH:
        raise ValidationError(_l("Use at most %(n)s characters.", n=MAX_PASSWORD_LENGTH))


class LoginForm(FlaskForm):
    """Staff login."""

    email = EmailField(_l("Email"), validators=[DataRequired(_l("Enter your email."))])
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Enter your password."))])


class ChangePasswordForm(FlaskForm):
    """A staff member changes their own password."""

    current_password = PasswordField(
        _l("Current password"), validators=[DataRequired(_l("Enter your current password."))]
    )
    new_password = PasswordField(
        _l("New password"), validators=[DataRequired(_l("Enter a new password.")), _password_length]
    )
    confirm_password = PasswordField(
        _l("New password again"),
        validators=[DataRequired(_l("Enter the new password again.")), EqualTo("new_password", _l("The two new passwords differ."))],
    )


class NewStaffForm(FlaskForm):
    """An admin adds a staff account; the password is generated and shown once."""

    email = EmailField(_l("Email"), validators=[DataRequired(_l("Enter an email.")), Length(max=320)])
    role = SelectField(_l("Role"), choices=ROLE_CHOICES, default="organizer")


class StaffRoleForm(FlaskForm):
    """An admin changes a staff member's role."""

    role = SelectField(_l("Role"), choices=ROLE_CHOICES)


class ConfirmForm(FlaskForm):
    """A button-only form: its CSRF token is the point."""

    confirm = HiddenField(default="1")


class SearchForm(FlaskForm):
    """A search box (GET, so no CSRF token)."""

    class Meta:
        csrf = False

    q = StringField(_l("Email or name"))


class _ExportForm(FlaskForm):
    """Filters common to every export (GET form: no CSRF token, it changes nothing)."""

    class Meta:
        csrf = False

    date_from = DateField(_l("From (first day)"), validators=[Optional()])
    date_to = DateField(_l("Until (last day)"), validators=[Optional()])

    def validate_date_to(self, field) -> None:
        """The range must not end before it starts."""
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_l("The last day is before the first day."))


STATUS_LABELS = {
    "confirmed": _l("Confirmed (counted)"),
    "pending": _l("Pending (not confirmed yet)"),
    "invalidated": _l("Invalidated"),
    "verified": _l("Verified"),
    "submitted": _l("Submitted (not confirmed yet)"),
    "rejected": _l("Rejected"),
    "withdrawn": _l("Withdrawn"),
    "all": _l("All"),
}


#: The same filters for pledges: in Spanish a pledge ("compromiso") is masculine, a
#: signature ("firma") feminine, so one English word is two Spanish ones.
PLEDGE_STATUS_LABELS = {
    "confirmed": _lp("pledges", "Confirmed (counted)"),
    "pending": _lp("pledges", "Pending (not confirmed yet)"),
    "invalidated": _lp("pledges", "Invalidated"),
    "all": _lp("pledges", "All"),
}
SIGNATURE_STATUS_LABELS = {
    **STATUS_LABELS,
    "invalidated": _lp("signatures", "Invalidated"),
    "all": _lp("signatures", "All"),
}


class SignatureExportForm(_ExportForm):
    """Filters of the signatories export."""

    campaign = SelectField(_l("Campaign"), validate_choice=True, default="")
    status = SelectField(
        _l("Status"),
        choices=[SelectChoice(s, SIGNATURE_STATUS_LABELS[s]) for s in ("confirmed", "pending", "invalidated", "all")],
        default="confirmed",
    )
    consented_only = BooleanField(_l("Only signers who agreed to receive updates"))
    county = SelectField(_l("County"), validate_choice=True, default="")
    district = StringField(_l("Senate or Assembly district"), validators=[Optional(), Length(max=80)])

    def validate_district(self, field) -> None:
        """A district staff can type: SD 12, AD 65, Senate 12, Assembly 65."""
        if field.data and parse_district(field.data) is None:
            raise ValidationError(_l("Write the district as SD 12 (Senate) or AD 65 (Assembly)."))


class PledgeExportForm(_ExportForm):
    """Filters of the pledges export."""

    goal = SelectField(_l("Goal"), validate_choice=True, default="")
    status = SelectField(
        _l("Status"),
        choices=[SelectChoice(s, PLEDGE_STATUS_LABELS[s]) for s in ("confirmed", "pending", "invalidated", "all")],
        default="confirmed",
    )
    county = SelectField(_l("County"), validate_choice=True, default="")


class EndorsementExportForm(_ExportForm):
    """Filters of the endorsements export."""

    campaign = SelectField(_l("Campaign"), validate_choice=True, default="")
    status = SelectField(
        _l("Status"),
        choices=[
            SelectChoice(s, STATUS_LABELS[s])
            for s in ("verified", "confirmed", "submitted", "rejected", "withdrawn", "all")
        ],
        default="verified",
    )


class InvalidateForm(FlaskForm):
    """Invalidate one signature."""

    reason = StringField(
        _l("Reason"), validators=[DataRequired(_l("Give a reason.")), Length(max=200)], default=""
    )


class BulkInvalidateForm(FlaskForm):
    """Invalidate signatures of a campaign by email domain, client address hash or time window."""

    campaign = SelectField(_l("Campaign"), coerce=int)
    email_domain = StringField(_l("Email domain"), validators=[Optional(), Length(max=253)])
    client_hash = StringField(_l("Client address hash"), validators=[Optional(), Length(max=64)])
    signed_from = DateTimeLocalField(_l("Signed from (UTC)"), validators=[Optional()], format="%Y-%m-%dT%H:%M")
    signed_until = DateTimeLocalField(_l("Signed before (UTC)"), validators=[Optional()], format="%Y-%m-%dT%H:%M")
    reason = StringField(_l("Reason"), validators=[Length(max=200)])
    expected_confirmed = HiddenField()
    expected_pending = HiddenField()


class RejectForm(FlaskForm):
    """Reject an endorsement."""

    reason = TextAreaField(
        _l("Reason for the rejection (kept, never shown publicly)"),
        validators=[DataRequired(_l("Give a reason for the rejection.")), Length(max=500)],
    )


class EndorsementDisplayForm(FlaskForm):
    """What shows publicly of an endorsement."""

    display_name = StringField(
        _l("Name shown"), validators=[DataRequired(_l("The name to show cannot be empty.")), Length(max=200)]
    )
    display_statement = TextAreaField(_l("Statement shown"), validators=[Length(max=1000)])


class PartnerSiteForm(FlaskForm):
    """Another website of a partner, which gets an embed address of its own."""

    address = StringField(
        _l("Another website of this organization"),
        validators=[DataRequired(_l("Type the website’s address.")), Length(max=300)],
    )


class _PaperSourceForm(FlaskForm):
    """Which campaign, and where and when the sheets were signed."""

    campaign = SelectField(_l("Campaign"), coerce=int)
    event = StringField(
        _l("Where they were collected"),
        validators=[DataRequired(_l("Say where the signatures were collected.")), Length(max=185)],
    )
    event_date = DateField(
        _l("Date collected (or received by mail)"),
        validators=[DataRequired(_l("Give the date, as YYYY-MM-DD."))],
    )


class PaperSignatureForm(_PaperSourceForm):
    """One paper signature."""

    full_name = StringField(_l("Full name"), validators=[DataRequired(_l("Enter the name.")), Length(max=200)])
    email = StringField(_l("Email"), validators=[Optional(), Length(max=320)])
    zip_code = StringField(_l("ZIP code"), validators=[Optional(), Length(max=10)])
    country = StringField(_l("Country, if outside the US"), validators=[Optional(), Length(max=100)])
    wants_updates = BooleanField(_l("Ticked the box to receive updates by email"))
    deliver_name = BooleanField(_l("Agreed to have their name delivered to their legislators"))
    comment = TextAreaField(_l("Comment"), validators=[Optional(), Length(max=500)])


class PaperUploadForm(_PaperSourceForm):
    """A CSV of paper signatures."""

    file = FileField(_l("CSV file"), validators=[FileRequired(_l("Choose the CSV file."))])
    mode = RadioField(
        _l("If some rows have a problem"),
        choices=[
            SelectChoice("all", _l("Import nothing, and list the problems (then fix the file and upload it again)")),
            SelectChoice("valid", _l("Import the valid rows, and list the rows left out")),
        ],
        default="all",
    )


class EraseForm(FlaskForm):
    """Erase a supporter's personal data, by email."""

    email = StringField(
        _l("The supporter's email"), validators=[DataRequired(_l("Enter the email to erase.")), Length(max=320)]
    )


class MultiCheckboxField(SelectMultipleField):
    """Several choices, shown as checkboxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class CampaignForm(FlaskForm):
    """A campaign's text, target, dates and goals."""

    title = StringField(_l("Title"), validators=[DataRequired(_l("Give the campaign a title.")), Length(max=200)])
    slug = StringField(
        _l("Address"), validators=[DataRequired(_l("Give the campaign an address.")), Length(max=80)]
    )
    summary = TextAreaField(
        _l("Summary"), validators=[DataRequired(_l("Write a one- or two-sentence summary.")), Length(max=500)]
    )
    body = TextAreaField(_l("Petition text"), validators=[Optional(), Length(max=20000)])
    target = IntegerField(
        _l("Target (confirmed signatures)"),
        validators=[InputRequired(_l("Give a target, a whole number.")), NumberRange(min=1, message=_l("The target must be at least 1."))],
    )
    opens_on = DateField(_l("Opens on (New York time)"), validators=[Optional()])
    closes_on = DateField(_l("Closes after (last day, New York time)"), validators=[Optional()])
    goals = MultiCheckboxField(_l("Goals it advances"))
    featured = BooleanField(_l("Feature it on the home page (instead of the open campaign closest to its deadline)"))
    title_es = StringField(_l("Title in Spanish"), validators=[Optional(), Length(max=200)])
    summary_es = TextAreaField(_l("Summary in Spanish"), validators=[Optional(), Length(max=500)])
    body_es = TextAreaField(_l("Petition text in Spanish"), validators=[Optional(), Length(max=20000)])


class ShareImageForm(FlaskForm):
    """The picture shared links show, with its description (required)."""

    image = FileField(_l("Image (PNG or JPEG, at most 5 MB)"))
    alt = StringField(
        _l("What the image shows, for people who cannot see it"),
        validators=[DataRequired(_l("Describe the image for people who cannot see it.")), Length(max=300)],
    )
    alt_es = StringField(_l("The same in Spanish"), validators=[Optional(), Length(max=300)])


class GoalForm(FlaskForm):
    """A goal's text."""

    title = StringField(_l("Title"), validators=[DataRequired(_l("The title cannot be empty.")), Length(max=200)])
    summary = TextAreaField(_l("Summary"), validators=[DataRequired(_l("The summary cannot be empty."))])
    body = TextAreaField(_l("Longer explanation"), validators=[Optional()])
    title_es = StringField(_l("Title in Spanish"), validators=[Optional(), Length(max=200)])
    summary_es = TextAreaField(_l("Summary in Spanish"), validators=[Optional()])
    body_es = TextAreaField(_l("Longer explanation in Spanish"), validators=[Optional()])


class PledgeActionForm(FlaskForm):
    """A pledge action's wording, and whether it is still offered."""

    label = StringField(_l("Action"), validators=[DataRequired(_l("Write the action.")), Length(max=200)])
    label_es = StringField(_l("In Spanish"), validators=[Optional(), Length(max=200)])
    active = BooleanField(_l("Offered"), default=True)


class UpdateForm(FlaskForm):
    """An update: its text in English (and Spanish, where given) and its audience."""

    subject = StringField(_l("Subject"), validators=[DataRequired(_l("Write a subject.")), Length(max=200)])
    body = TextAreaField(_l("Text"), validators=[DataRequired(_l("Write the update.")), Length(max=20000)])
    subject_es = StringField(_l("Subject in Spanish"), validators=[Optional(), Length(max=200)])
    body_es = TextAreaField(_l("Text in Spanish"), validators=[Optional(), Length(max=20000)])
    campaigns = MultiCheckboxField(_l("Signers of these campaigns"), coerce=int, validate_choice=True)
    goals = MultiCheckboxField(_l("Pledgers of these goals"), coerce=int, validate_choice=True)
    counties = MultiCheckboxField(_l("Only in these counties (none ticked: everywhere)"), validate_choice=True)
    senate_districts = MultiCheckboxField(
        _l("Only in these Senate districts (estimated from ZIP codes; none ticked: everywhere)"), validate_choice=True
    )
    assembly_districts = MultiCheckboxField(
        _l("Only in these Assembly districts (estimated from ZIP codes; none ticked: everywhere)"), validate_choice=True
    )

    def validate(self, extra_validators=None) -> bool:
        """The fields, then: an audience, and Spanish in full or not at all."""
        valid = super().validate(extra_validators)
        if not (self.campaigns.data or self.goals.data):
            self.campaigns.errors = list(self.campaigns.errors) + [_l("Choose at least one campaign or goal.")]
            valid = False
        if bool((self.subject_es.data or "").strip()) != bool((self.body_es.data or "").strip()):
            self.body_es.errors = list(self.body_es.errors) + [_l("Give both the Spanish subject and the Spanish text, or neither.")]
            valid = False
        return valid


class SendUpdateForm(FlaskForm):
    """The last confirmation before an update goes out: the number of recipients it was shown."""

    recipients = HiddenField()


OUTCOME_CHOICES = [
    SelectChoice("", _l("Not recorded")),
    SelectChoice("delivered", _l("Delivered")),
    SelectChoice("won", _l("Won")),
    SelectChoice("lost", _l("Lost")),
    SelectChoice("no_result", _l("Closed without a result")),
]


class OutcomeForm(FlaskForm):
    """What came of a campaign, and its short public text."""

    outcome = SelectField(_l("Outcome"), choices=OUTCOME_CHOICES, validate_choice=True)
    outcome_on = DateField(_l("On (the day it was delivered, won or lost)"), validators=[Optional()])
    outcome_text = TextAreaField(_l("What to tell the public"), validators=[Optional(), Length(max=2000)])
    outcome_text_es = TextAreaField(_l("In Spanish"), validators=[Optional(), Length(max=2000)])


class PasswordResetRequestForm(FlaskForm):
    """Asking for a password-reset link."""

    email = EmailField(_l("Email"), validators=[DataRequired(_l("Enter your email."))])


class PasswordResetForm(FlaskForm):
    """Choosing a new password from a reset link."""

    new_password = PasswordField(
        _l("New password"), validators=[DataRequired(_l("Enter a new password.")), _password_length]
    )
    confirm_password = PasswordField(
        _l("New password again"),
        validators=[DataRequired(_l("Enter the new password again.")), EqualTo("new_password", _l("The two new passwords differ."))],
    )
