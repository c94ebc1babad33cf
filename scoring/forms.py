"""Scoring forms: criteria, the panel, declarations, score sheets, moderation and interests."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (BooleanField, DateTimeLocalField, DecimalField, HiddenField, IntegerField, RadioField, SelectField,
                     StringField, TextAreaField, ValidationError)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from app.forms import BaseForm
from eoi.forms.officer import DATETIME_FORMAT, MultiCheckboxField
from scoring.models import Envelope, PanelRole


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
    group_en = StringField(_l("Group (English, optional)"), validators=[Length(max=200)])
    group_zh = StringField(_l("Group (Chinese, optional)"), validators=[Length(max=200)])
    guidance_en = TextAreaField(_l("Guidance for vendors and the panel (English)"), validators=[Length(max=3000)])
    guidance_zh = TextAreaField(_l("Guidance for vendors and the panel (Chinese)"), validators=[Length(max=3000)])
    descriptors_en = TextAreaField(_l("What the scores mean (English)"), validators=[Length(max=3000)],
                                   description=_l("One level per line, e.g. 0: no evidence; 5: meets the requirement; "
                                                  "10: exceeds it with evidence."))
    descriptors_zh = TextAreaField(_l("What the scores mean (Chinese)"), validators=[Length(max=3000)])

    def __init__(self, *args, price_envelope: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        envelopes = [Envelope.technical] + ([Envelope.price] if price_envelope else [])
        self.envelope.choices = [(e.value, e.title) for e in envelopes]


# --- panels, declarations, score sheets, moderation -------------------------------------------------------

class PanelForm(BaseForm):
    chair = SelectField(_l("Chair (scores too)"), coerce=int)
    members = MultiCheckboxField(_l("Members"), coerce=int)
    secretary = SelectField(_l("Secretary (optional, does not score)"), coerce=int)
    deadline = DateTimeLocalField(_l("Deadline for score sheets (optional)"), format=DATETIME_FORMAT,
                                  validators=[Optional()], description=_l("Hong Kong time."))
    hide_identities = BooleanField(_l("Hide the vendors' identities from the panel while it scores"))

    def __init__(self, *args, candidates=(), **kwargs):
        super().__init__(*args, **kwargs)
        people = [(u.id, f"{u.name} ({u.email})") for u in candidates]
        self.chair.choices = people
        self.members.choices = people
        self.secretary.choices = [(0, _l("No secretary"))] + people

    def validate_members(self, field):
        if not field.data:
            raise ValidationError(_l("Choose at least one member besides the chair."))


class AddMemberForm(BaseForm):
    user = SelectField(_l("Person"), coerce=int)
    role = SelectField(_l("Role"), choices=[])

    def __init__(self, *args, candidates=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.user.choices = [(u.id, f"{u.name} ({u.email})") for u in candidates]
        self.role.choices = [(r.value, r.title) for r in (PanelRole.member, PanelRole.secretary)]


class AssignForm(BaseForm):
    members = MultiCheckboxField(_l("Members"), coerce=int)
    submissions = MultiCheckboxField(_l("Proposals"), coerce=int)

    def __init__(self, *args, members=(), proposals=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.members.choices = [(m.id, m.user.name) for m in members]
        self.submissions.choices = list(proposals)

    def validate_members(self, field):
        if not field.data:
            raise ValidationError(_l("Choose at least one member."))

    def validate_submissions(self, field):
        if not field.data:
            raise ValidationError(_l("Choose at least one proposal."))


class ReasonForm(BaseForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(message=_l("Give the reason.")), Length(max=2000)])


def declaration_form(vendors, formdata=None, declared=None):
    """A form with, per vendor, a choice (no conflict / conflict) and the conflict's details."""
    declared = declared or {}

    class DeclarationForm(BaseForm):
        pass

    for vendor in vendors:
        previous = declared.get(vendor.id)
        setattr(DeclarationForm, f"v{vendor.id}", RadioField(
            vendor.name_en + " / " + vendor.name_zh,
            validators=[InputRequired(message=_l("Choose one."))],
            default=None if previous is None else ("conflict" if previous.has_conflict else "none")))
        setattr(DeclarationForm, f"d{vendor.id}", TextAreaField(
            _l("Details of the conflict"), default=previous.details if previous else "",
            validators=[Length(max=2000)]))
    form = DeclarationForm(formdata=formdata) if formdata is not None else DeclarationForm()
    for vendor in vendors:
        form[f"v{vendor.id}"].choices = [("none", _l("No conflict of interest")),
                                         ("conflict", _l("I have a conflict of interest"))]
    return form


def sheet_form(criteria, scores=None, version: int = 0, formdata=None):
    """The score sheet: per criterion a score on its scale and a justification; the version the page shows."""
    scores = scores or {}
    shown_version = str(version)

    class ScoreSheetForm(BaseForm):
        version = HiddenField(default=shown_version)

    for criterion in criteria:
        score = scores.get(criterion.id)
        setattr(ScoreSheetForm, f"s{criterion.id}", IntegerField(
            _l("Score (0 to %(max)s)", max=criterion.max_score), default=score.value if score else None,
            validators=[Optional(), NumberRange(min=0, max=criterion.max_score,
                                                message=_l("Enter a whole number from 0 to %(max)s.",
                                                           max=criterion.max_score))]))
        setattr(ScoreSheetForm, f"j{criterion.id}", TextAreaField(
            _l("Justification"), default=score.justification if score else "", validators=[Length(max=5000)]))
    return ScoreSheetForm(formdata=formdata) if formdata is not None else ScoreSheetForm()


class ConsensusForm(BaseForm):
    value = DecimalField(_l("Consensus score"), places=2, validators=[
        InputRequired(message=_l("Enter the consensus score.")),
        NumberRange(min=0, max=100, message=_l("Enter a score on the criterion's scale."))])
    rationale = TextAreaField(_l("Rationale"), validators=[DataRequired(message=_l("Give the rationale.")),
                                                           Length(max=2000)])


class InterestForm(BaseForm):
    kind = SelectField(_l("Kind"), choices=[])
    name = StringField(_l("Name (company or person)"), validators=[
        DataRequired(message=_l("This field is required.")), Length(max=200)])

    def __init__(self, *args, kinds=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = [(k.value, k.title) for k in kinds]


PRICE_FORMULA_TITLES = {
    "lowest_pro_rata": _l("Lowest compliant price scores full marks, others pro rata (lowest ÷ price)"),
    "linear": _l("Linear between the lowest (full marks) and the highest price (zero)"),
    "proportional_difference": _l("Full marks less the percentage by which a price exceeds the lowest"),
}


class EvaluationSettingsForm(BaseForm):
    overall_pass_mark = DecimalField(_l("Overall technical pass mark (weighted score out of 100, optional)"), places=2,
                                     validators=[Optional(), NumberRange(min=0, max=100, message=_l(
                                         "Enter a number from 0 to 100."))])
    technical_weight = IntegerField(_l("Technical share of the combined score (per cent; price takes the rest)"),
                                    validators=[Optional(), NumberRange(min=1, max=99, message=_l(
                                        "Enter a whole number from 1 to 99."))])
    price_formula = SelectField(_l("Price formula"), choices=[])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.price_formula.choices = list(PRICE_FORMULA_TITLES.items())
