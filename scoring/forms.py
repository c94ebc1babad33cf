"""Criterion form."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DecimalField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from app.forms import BaseForm
from scoring.models import Envelope


class CriterionForm(BaseForm):
    name_en = StringField(_l("Criterion (English)"), validators=[DataRequired(message=_l("This field is required.")),
                                                                 Length(max=300)])
    name_zh = StringField(_l("Criterion (Chinese)"), validators=[DataRequired(message=_l("This field is required.")),
                                                                 Length(max=300)])
    weight = DecimalField(_l("Weight (per cent)"), places=2, validators=[
        DataRequired(message=_l("Enter a weight between 0.01 and 100.")),
        NumberRange(min=0.01, max=100, message=_l("Enter a weight between 0.01 and 100."))])
    max_score = IntegerField(_l("Maximum score"), default=10, validators=[
        DataRequired(message=_l("Enter a whole number from 1 to 100.")),
        NumberRange(min=1, max=100, message=_l("Enter a whole number from 1 to 100."))])
    pass_mark = IntegerField(_l("Pass mark (optional)"), validators=[
        Optional(), NumberRange(min=0, max=100, message=_l("Enter a whole number from 0 to 100."))])
    envelope = SelectField(_l("Envelope"), choices=[])

    def __init__(self, *args, price_envelope: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        envelopes = [Envelope.technical] + ([Envelope.price] if price_envelope else [])
        self.envelope.choices = [(e.value, e.title) for e in envelopes]
