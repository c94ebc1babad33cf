"""Forms of the contracts area: the contract and its terms, variations, KPI reports, the register's filters and the
public verification page. Input checks only; the rules are in contracts.operations."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import (BooleanField, DateField, DecimalField, IntegerField, SelectField, SelectMultipleField, StringField,
                     TextAreaField)
from wtforms.widgets import CheckboxInput, ListWidget
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from app.forms import BaseForm, FilterForm
from app.i18n import month
from contracts import rules
from contracts.models import FeeKind, KpiDirection, ReportingFrequency, RiskBearer
from contracts.states import ContractState

REQUIRED = _l("This field is required.")
AMOUNT = _l("Enter an amount in HK$ of zero or more, such as 1250000 or 1250000.50.")
NUMBER = _l("Enter a number such as 99.5 (digits and one decimal point only).")
DATE = _l("Enter a date as YYYY-MM-DD.")


def _text(label, max_length=300, required=True):
    return StringField(label, validators=[DataRequired(message=REQUIRED) if required else Optional(),
                                          Length(max=max_length)])


def _amount(label, required=True):
    return DecimalField(label, places=2, validators=[InputRequired(message=AMOUNT) if required else Optional(),
                                                     NumberRange(min=0, message=AMOUNT)],
                        render_kw={"inputmode": "decimal"})


def _quantity(label):
    return DecimalField(label, validators=[InputRequired(message=NUMBER)], render_kw={"inputmode": "decimal"})


def _day(label):
    return DateField(label, validators=[InputRequired(message=DATE)], render_kw={"type": "date"})


def _choices(enum_cls):
    return [(member.value, member.title) for member in enum_cls]


class ContractForm(BaseForm):
    submission = SelectField(_l("Exercise and company (a submitted proposal)"), coerce=int,
                             validators=[InputRequired(message=REQUIRED)])
    cluster = SelectField(_l("Service cluster"), coerce=int, validators=[InputRequired(message=REQUIRED)])
    title_en = _text(_l("Title (English)"))
    title_zh = _text(_l("Title (Chinese)"))
    starts_on = _day(_l("Term starts"))
    ends_on = _day(_l("Term ends"))
    extensions_allowed = IntegerField(_l("Options to extend (how many)"), default=0,
                                      validators=[InputRequired(message=REQUIRED), NumberRange(min=0, max=10)])
    extension_months = IntegerField(_l("Months per extension"), default=0,
                                    validators=[InputRequired(message=REQUIRED), NumberRange(min=0, max=120)])
    cost_avoidance = _amount(_l("Cost avoided over the term against the old scheme's fees (HK$)"))

    def __init__(self, *args, submissions=(), clusters=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.submission.choices = [(s.id, f"{s.exercise.reference} — {s.vendor.name_en}") for s in submissions]
        self.cluster.choices = [(c.id, f"{c.code} — {c.name_en} {c.name_zh}") for c in clusters]


class _ChoicesForm(BaseForm):
    """Select fields filled in __init__ (choices passed at declaration are deprecated in WTForms 3.3)."""
    CHOICES: dict = {}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, choices in self.CHOICES.items():
            self[name].choices = choices() if callable(choices) else list(choices)


class FeeForm(_ChoicesForm):
    CHOICES = {"kind": lambda: _choices(FeeKind)}
    kind = SelectField(_l("Kind of fee"))
    description_en = _text(_l("Description (English)"))
    description_zh = _text(_l("Description (Chinese)"))
    rate = DecimalField(_l("Rate (in the kind's unit)"), validators=[InputRequired(message=NUMBER),
                                                                     NumberRange(min=0, message=NUMBER)],
                        render_kw={"inputmode": "decimal"})
    committed = _amount(_l("Committed over the term (HK$)"))


class MilestoneForm(BaseForm):
    title_en = _text(_l("Milestone (English)"))
    title_zh = _text(_l("Milestone (Chinese)"))
    due_on = _day(_l("Due on"))
    amount = _amount(_l("Payment on acceptance (HK$)"))


class KpiForm(_ChoicesForm):
    CHOICES = {"direction": lambda: _choices(KpiDirection), "frequency": lambda: _choices(ReportingFrequency)}
    name_en = _text(_l("Service level (English)"))
    name_zh = _text(_l("Service level (Chinese)"))
    unit = _text(_l("Unit (%, seconds, transactions, ...)"), max_length=30)
    target = _quantity(_l("Target"))
    direction = SelectField(_l("Met when the figure is"))
    frequency = SelectField(_l("Reporting frequency"))
    credit_step = _quantity(_l("Service credit: for every started step of shortfall of"))
    credit_amount = _amount(_l("Service credit per step (HK$)"))
    credit_cap = _amount(_l("Service credit cap per period (HK$)"))


class PerformanceReportForm(_ChoicesForm):
    CHOICES = {"language": (("en", "English"), ("zh_Hant", "繁體中文"))}
    year = SelectField(_l("Contract year"), coerce=int, validators=[InputRequired(message=REQUIRED)])
    language = SelectField(_l("Language of the report"))

    def __init__(self, *args, years=(), contract=None, default_year=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.year.choices = [(y, str(_l("Year %(n)s: %(start)s to %(end)s", n=y, start=_day_text(contract, y, 0),
                                          end=_day_text(contract, y, 1)))) for y in years]
        if self.year.data is None and years:
            self.year.data = default_year if default_year in years else years[-1]


def _day_text(contract, year: int, which: int) -> str:
    from app.i18n import day
    start, end = rules.contract_year(contract.starts_on, year)
    return day(start if which == 0 else date.fromordinal(end.toordinal() - 1))


class RiskForm(_ChoicesForm):
    CHOICES = {"bearer": lambda: _choices(RiskBearer)}
    risk_en = _text(_l("Risk (English)"))
    risk_zh = _text(_l("Risk (Chinese)"))
    bearer = SelectField(_l("Borne by"))
    mitigation_en = TextAreaField(_l("Mitigation (English)"), validators=[Length(max=2000)])
    mitigation_zh = TextAreaField(_l("Mitigation (Chinese)"), validators=[Length(max=2000)])


class IssueForm(_ChoicesForm):
    CHOICES = {"language": (("en", "English"), ("zh_Hant", "繁體中文"))}
    language = SelectField(_l("Language of the contract"))


class VariationForm(BaseForm):
    reason = TextAreaField(_l("Reason for the variation"), validators=[DataRequired(message=REQUIRED),
                                                                       Length(max=2000)])
    extra_committed = _amount(_l("Value added (HK$)"))
    description_en = _text(_l("What is added (English)"), required=False)
    description_zh = _text(_l("What is added (Chinese)"), required=False)
    extend = BooleanField(_l("Use an option to extend the term"))


class TerminateForm(BaseForm):
    reason = TextAreaField(_l("Reason for terminating"), validators=[DataRequired(message=REQUIRED), Length(max=2000)])


class PaidForm(BaseForm):
    paid_on = _day(_l("Paid on"))


class QueryForm(BaseForm):
    note = TextAreaField(_l("What should the contractor check?"), validators=[DataRequired(message=REQUIRED),
                                                                            Length(max=2000)])


def _figure(form, field) -> None:
    try:
        field.figure = rules.parse_figure(field.data)
    except ValueError:
        field.figure = None
        raise ValidationError(NUMBER) from None


class _ReportBase(BaseForm):
    period = SelectField(_l("Period (month)"), validators=[InputRequired(message=REQUIRED)])
    comment = TextAreaField(_l("Comment (optional)"), validators=[Length(max=2000)])
    kpi_fields: list[tuple[int, str]] = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.period.choices = []  # kpi_report_form() gives the open periods

    def figures(self) -> dict[int, Decimal]:
        return {kpi_id: getattr(self[name], "figure", None) for kpi_id, name in self.kpi_fields}


def kpi_report_form(kpis, periods, *, locale, **kwargs) -> _ReportBase:
    """A report form with one figure field per KPI (`kpi_<id>`); the figure is checked as text (parse_figure),
    so "99,5%" or "n/a" is refused at the field."""
    class KpiReportForm(_ReportBase):
        pass
    names = []
    for kpi in kpis:
        label = f"{kpi.name(locale)} ({kpi.unit})"
        due = _l("reported quarterly: due in March, June, September and December") \
            if kpi.frequency == ReportingFrequency.quarterly else None
        setattr(KpiReportForm, f"kpi_{kpi.id}", StringField(label, description=due, validators=[
            Optional() if kpi.frequency == ReportingFrequency.quarterly else InputRequired(message=NUMBER), _figure],
            render_kw={"inputmode": "decimal"}))
        names.append((kpi.id, f"kpi_{kpi.id}"))
    form = KpiReportForm(**kwargs)
    form.kpi_fields = names
    form.period.choices = [(p.isoformat(), month(p)) for p in periods]  # "December 2011" / "2011年12月"
    return form


class RegisterFilterForm(FilterForm):
    state = SelectField(_l("Status"), validators=[Optional()])
    cluster = SelectField(_l("Service cluster"), validators=[Optional()])
    vendor = StringField(_l("Contractor"), validators=[Optional(), Length(max=100)])

    def __init__(self, *args, clusters=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.state.choices = [("", _l("Any"))] + _choices(ContractState)
        self.cluster.choices = [("", _l("Any"))] + [(str(c.id), f"{c.code} — {c.name_en}") for c in clusters]


class VerifyForm(BaseForm):
    # The page shows the file first (the usual check), then the reference: the "or" goes on the second.
    reference = StringField(_l("Or the reference printed on the document (e.g. PPP/BT/2008/01/v2)"),
                            validators=[Optional(), Length(max=60)])
    file = FileField(_l("The PDF file you received"))


# --- decisions ----------------------------------------------------------------------------------

class DecisionForm(BaseForm):
    """The officer's decision: the proposals chosen (an EOI's shortlist in rank order, a tender's one award) and the
    justification. Choices (submission id, label) are given by the view, pre-checked with the recommendation."""
    submissions = SelectMultipleField(_l("Proposals chosen"), coerce=int, widget=ListWidget(prefix_label=False),
                                      option_widget=CheckboxInput(), validators=[DataRequired(message=_l(
                                          "Choose at least one proposal."))])
    justification = TextAreaField(_l("Justification"), validators=[DataRequired(message=REQUIRED), Length(max=5000)],
                                  description=_l("Why these proposals: the panel's recommendation, the scores "
                                                 "against the pass marks, and any departure from the ranking."))

    def __init__(self, *args, choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.submissions.choices = list(choices)


class ReasonForm(BaseForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(message=REQUIRED), Length(max=2000)])


class ChallengeForm(BaseForm):
    text = TextAreaField(_l("Your challenge"), validators=[DataRequired(message=REQUIRED), Length(max=5000)],
                         description=_l("What you challenge in the award and why; the procurement office answers "
                                        "in writing before the award becomes final."))


class AnswerForm(BaseForm):
    answer = TextAreaField(_l("Answer"), validators=[DataRequired(message=REQUIRED), Length(max=5000)])
