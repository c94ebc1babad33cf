"""The input boundary: the base of every form, GET filters, the request class that cleans query parameters, ids.

Every form derives from BaseForm, whose fields are guarded when they are bound (a form cannot forget):
- single-line text (StringField and its kinds: email, password, hidden) refuses control characters, line breaks
  and bidi controls with a field message, before any other validator runs (so none reaches a query: PostgreSQL
  refuses NUL in text, and a CR in a company name would break its emails);
- multi-line text (TextAreaField) is cleaned of NUL and the other invisible controls (tab and line breaks stay);
- dates (DateField, DateTimeLocalField and the other DateTimeField kinds) must lie between EARLIEST and LATEST,
  so that converting or adding to them can never overflow;
- numbers (IntegerField, DecimalField, FloatField) must be finite and fit a database integer (MAX_INT).
GET parameters are cleaned once, in Request.args, for every view (an int read with args.get(..., type=int) beyond
MAX_INT is the default); filter forms (FilterForm) drop invalid values. An <int:...> URL argument beyond MAX_INT
matches no route (IntegerConverter): a 404, never a query that overflows.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache

import flask
from babel import support
from flask_babel import get_locale, lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug import routing
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.utils import cached_property
from wtforms import DateTimeField, DecimalField, FloatField, IntegerField, StringField, TextAreaField
from wtforms.i18n import messages_path
from wtforms.validators import StopValidation

from app.text import clean_line, clean_multiline, has_line_controls

#: the dates a user may type (anything outside is a typing error, and far dates overflow time arithmetic)
EARLIEST = date(2000, 1, 1)
LATEST = date(2099, 12, 31)
#: the largest integer a column holds (PostgreSQL integer); larger ids and counts are typing errors or probes
MAX_INT = 2**31 - 1

CONTROL_MESSAGE = _l("Remove the control characters (such as line breaks, tabs or text direction marks) from this field.")
NUMBER_MESSAGE = _l("This number is out of range.")


def date_range_message():
    return _l("Enter a date between %(earliest)s and %(latest)s.", earliest=EARLIEST.isoformat(), latest=LATEST.isoformat())


def in_date_range(value: date | datetime | None) -> bool:
    day = value.date() if isinstance(value, datetime) else value
    return not isinstance(day, date) or EARLIEST <= day <= LATEST


def refuse_line_controls(form, field) -> None:
    """Runs first on every single-line field: a control character stops the field's validation with a message."""
    if isinstance(field.data, str) and has_line_controls(field.data):
        raise StopValidation(CONTROL_MESSAGE)


def refuse_far_dates(form, field) -> None:
    """Runs first on every date field: a date outside EARLIEST..LATEST stops the field's validation."""
    if not in_date_range(field.data):
        raise StopValidation(date_range_message())


def refuse_far_numbers(form, field) -> None:
    """Runs first on every number field: NaN, infinities and integers beyond MAX_INT stop the field's validation."""
    value = field.data
    if isinstance(value, float):
        value = Decimal(value)
    if isinstance(value, Decimal) and (not value.is_finite() or abs(value) > MAX_INT):
        raise StopValidation(NUMBER_MESSAGE)
    if isinstance(value, int) and abs(value) > MAX_INT:
        raise StopValidation(NUMBER_MESSAGE)


def _clean_multiline(value):
    return clean_multiline(value) if isinstance(value, str) else value


def guard_field(field) -> None:
    """Add the input rules above to a bound field (before it processes its data)."""
    if isinstance(field, TextAreaField):
        field.filters = (_clean_multiline, *field.filters)
    elif isinstance(field, StringField):
        field.validators = [refuse_line_controls, *field.validators]
    elif isinstance(field, DateTimeField):  # DateField, DateTimeLocalField, MonthField, WeekField, TimeField
        field.validators = [refuse_far_dates, *field.validators]
    elif isinstance(field, (IntegerField, DecimalField, FloatField)):  # and their range kinds
        field.validators = [refuse_far_numbers, *field.validators]


class _WTFormsMessages:
    """WTForms' own messages (e.g. "This field is required.") in the page's language. WTForms ships zh (Simplified)
    and zh_TW (Traditional); Babel falls back from zh_Hant to zh, so Chinese pages showed Simplified characters."""

    def _translations(self):
        if not flask.has_request_context():
            return None
        locale = str(get_locale() or "en")
        return _wtforms_translations("zh_TW" if locale.startswith("zh") else locale)

    def gettext(self, string):
        t = self._translations()
        return string if t is None else t.ugettext(string)

    def ngettext(self, singular, plural, n):
        t = self._translations()
        return (singular if n == 1 else plural) if t is None else t.ungettext(singular, plural, n)


WTFORMS_MESSAGES = _WTFormsMessages()


class BaseForm(FlaskForm):
    """The base of every form in Tenderbox (tests/app/test_input.py checks that every form derives from it)."""

    class Meta(FlaskForm.Meta):
        def get_translations(self, form):
            return WTFORMS_MESSAGES

        def bind_field(self, form, unbound_field, options):
            field = super().bind_field(form, unbound_field, options)
            guard_field(field)
            return field


@lru_cache(maxsize=8)
def _wtforms_translations(locale: str) -> support.Translations:
    """WTForms' catalogue for a locale, parsed once per process (Flask-WTF's own loader parses it in every request)."""
    return support.Translations.load(messages_path(), [locale], domain="wtforms")


class FilterForm(BaseForm):
    """A GET filter form: no CSRF (it changes nothing); an invalid value is dropped and its error shown at the field."""

    class Meta:
        csrf = False

    def valid_data(self) -> dict:
        """Field name -> value, for the fields whose value is valid (the others keep their errors for display)."""
        self.validate()
        return {name: field.data for name, field in self._fields.items() if not field.errors}


def parse_day(value: str | None) -> date | None:
    """A YYYY-MM-DD GET parameter parsed by hand: None when empty, malformed or outside EARLIEST..LATEST."""
    try:
        day = datetime.strptime((value or "").strip(), "%Y-%m-%d").date()
    except ValueError:
        return None
    return day if in_date_range(day) else None


class QueryArgs(ImmutableMultiDict):
    """Cleaned query parameters; get(..., type=int) gives the default for an integer no column can hold."""

    def get(self, key, default=None, type=None):
        value = super().get(key, default, type)
        if type is int and isinstance(value, int) and abs(value) > MAX_INT:
            return default
        return value


class Request(flask.Request):
    """The app's request class: query parameters are cleaned once, here, for every view and filter; uploaded file
    parts wait encrypted while the body is parsed (app.spool: no plaintext of a file reaches the disk)."""

    def _get_file_stream(self, total_content_length, content_type, filename=None, content_length=None):
        from app.spool import encrypted_stream_factory
        return encrypted_stream_factory(total_content_length, content_type, filename, content_length)

    @cached_property
    def args(self) -> QueryArgs:
        raw = flask.Request.args.fget(self)
        return QueryArgs([(clean_line(k), clean_line(v)) for k, v in raw.items(multi=True)])


class IntegerConverter(routing.IntegerConverter):
    """The app's <int:...>: beyond MAX_INT the URL matches no route (404) instead of overflowing a query.
    (Same class name as werkzeug's, so code that asks a rule for its converter's kind keeps working.)"""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_INT)
        super().__init__(map, *args, **kwargs)


def init_input(app: flask.Flask) -> None:
    """Install the request class and the id converter; before any route is added."""
    app.request_class = Request
    app.url_map.converters["int"] = IntegerConverter
