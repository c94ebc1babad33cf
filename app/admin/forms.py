"""Forms of the administrator pages: the audit log's filters."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField
from wtforms.validators import Length, Optional, ValidationError

from app.forms import EARLIEST, LATEST, FilterForm, parse_day  # one date range for every form (it also keeps day bounds from overflowing)


class _Day:
    def __call__(self, form, field) -> None:
        field.day = parse_day(field.data)
        if field.day is None and (field.data or "").strip():
            raise ValidationError(_l("Enter a date as YYYY-MM-DD, from %(earliest)s to %(latest)s.",
                                     earliest=EARLIEST.isoformat(), latest=LATEST.isoformat()))


class AuditFilterForm(FilterForm):
    """The GET filter form of the audit log: no CSRF (it changes nothing); a bad value is dropped and its
    error shown at the field, the other filters still apply."""

    action = StringField(_l("Action starts with"), validators=[Optional(), Length(max=80)])
    actor = StringField(_l("Who"), validators=[Optional(), Length(max=254)])
    object_type = SelectField(_l("Object type"), validators=[Optional()])
    date_from = StringField(_l("From (date)"), name="from", validators=[_Day()], render_kw={"type": "date"})
    date_to = StringField(_l("To (date)"), name="to", validators=[_Day()], render_kw={"type": "date"})

    def __init__(self, *args, object_types=(), **kwargs):
        super().__init__(*args, **kwargs)
        from app.hooks import hooks
        self.object_type.choices = [("", _l("Any"))] + [(t, hooks().audit_object_label(t)) for t in object_types]

    def filters(self) -> dict:
        """The valid filters: strings for action, actor and object_type, dates for date_from and date_to."""
        self.validate()
        found = {name: (self[name].data or "").strip() for name in ("action", "actor", "object_type")
                 if not self[name].errors and (self[name].data or "").strip()}
        for name in ("date_from", "date_to"):
            if not self[name].errors and getattr(self[name], "day", None):
                found[name] = self[name].day
        if "date_from" in found and "date_to" in found and found["date_to"] < found["date_from"]:
            self.date_to.errors = [*self.date_to.errors, _l("The end date is before the start date.")]
            del found["date_to"]
        return found
