"""Forms of the staff area: fields and validation only."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    PasswordField,
    SelectField,
    StringField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

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


class OptionalFlagForm(FlaskForm):
    """A button-only form with an optional flag."""

    flag = BooleanField()


class SearchForm(FlaskForm):
    """A search box (GET, so no CSRF token)."""

    class Meta:
        csrf = False

    q = StringField(_l("Email or name"))
