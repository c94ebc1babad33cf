"""Registration, sign-in, password and invitation forms; every message is translatable."""
from __future__ import annotations

import re

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, EqualTo, Length, ValidationError

from app.auth.models import Role, User
from app.auth.passwords import password_problem
from app.auth.queries import br_number_taken
from app.extensions import db
from app.forms import BaseForm

BR_PATTERN = re.compile(r"^\d{8}(-\d{3})?$")
PHONE_PATTERN = re.compile(r"^(\+852)?[2-9]\d{7}$")

PASSWORD_MESSAGES = {
    "too_short": _l("Use at least 12 characters."),
    "common": _l("This password is too common. Choose a less guessable one."),
    "repetitive": _l("Use more different characters."),
}


def normalise_br(value: str) -> str:
    return re.sub(r"\s+", "", value or "")


def check_password_strength(form, field):
    problem = password_problem(field.data or "", email=getattr(form, "email", None) and form.email.data or "")
    if problem:
        raise ValidationError(PASSWORD_MESSAGES[problem])


def unique_email(form, field):
    if db.session.scalar(sa.select(User.id).where(sa.func.lower(User.email) == field.data.strip().lower())):
        raise ValidationError(_l("An account with this email address already exists."))


def _required():
    return DataRequired(message=_l("This field is required."))


def _email_validators():
    return [_required(), Email(message=_l("Enter a valid email address.")), Length(max=254)]


class PasswordMixin:
    password = PasswordField(_l("Password"), validators=[_required(), check_password_strength],
                             description=_l("At least 12 characters; avoid common passwords."))
    confirm = PasswordField(_l("Repeat password"), validators=[
        _required(), EqualTo("password", message=_l("The two passwords do not match."))])


class RegistrationForm(PasswordMixin, BaseForm):
    name_en = StringField(_l("Company name (English)"), validators=[_required(), Length(max=200)])
    name_zh = StringField(_l("Company name (Chinese)"), validators=[_required(), Length(max=200)])
    br_number = StringField(_l("Business Registration number"), validators=[_required()],
                            description=_l("8 digits, optionally followed by a 3-digit branch number, e.g. 12345678-001."))
    address = TextAreaField(_l("Registered address"), validators=[_required(), Length(max=1000)])
    contact_name = StringField(_l("Contact person"), validators=[_required(), Length(max=120)])
    contact_phone = StringField(_l("Contact phone"), validators=[_required()],
                                description=_l("A Hong Kong number, e.g. 2123 4567 or +852 9123 4567."))
    name = StringField(_l("Your name"), validators=[_required(), Length(max=120)])
    # No uniqueness check here: the form must not tell which addresses have accounts (register_vendor handles it).
    email = EmailField(_l("Your email address"), validators=_email_validators())

    def validate_br_number(self, field):
        value = normalise_br(field.data)
        if not BR_PATTERN.match(value):
            raise ValidationError(_l("A Business Registration number has 8 digits, optionally followed by -001 style branch digits."))
        if br_number_taken(value):  # a verified company's; a pending registration claims nothing
            raise ValidationError(_l("A company with this Business Registration number is already registered."))

    def validate_contact_phone(self, field):
        if not PHONE_PATTERN.match(re.sub(r"[\s-]", "", field.data or "")):
            raise ValidationError(_l("Enter a Hong Kong phone number of 8 digits."))


class LoginForm(BaseForm):
    email = EmailField(_l("Email address"), validators=_email_validators())
    password = PasswordField(_l("Password"), validators=[_required()])
    remember = BooleanField(_l("Keep me signed in on this device (vendor accounts)"))


class ForgotPasswordForm(BaseForm):
    email = EmailField(_l("Email address"), validators=_email_validators())


class ResetPasswordForm(PasswordMixin, BaseForm):
    pass


class InviteForm(BaseForm):
    name = StringField(_l("Name"), validators=[_required(), Length(max=120)])
    email = EmailField(_l("Email address"), validators=[*_email_validators(), unique_email])


class AcceptInvitationForm(PasswordMixin, BaseForm):
    pass


class StaffUserForm(PasswordMixin, BaseForm):
    name = StringField(_l("Name"), validators=[_required(), Length(max=120)])
    email = EmailField(_l("Email address"), validators=[*_email_validators(), unique_email])
    role = SelectField(_l("Role"), choices=[])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.role.choices = [(r.value, r.title) for r in Role if r != Role.vendor]


class ConfirmForm(BaseForm):
    """An empty form: the CSRF token is the point."""
