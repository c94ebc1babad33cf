"""Forms of the public and vendor pages: exercise search, questions, subscriptions, the proposal and its parts."""
from __future__ import annotations

from decimal import Decimal
from functools import lru_cache

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, IntegerField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, HiddenInput, ListWidget

from app.forms import BaseForm, FilterForm
from eoi.rules import InvalidAmount, parse_price
from eoi.states import ExerciseKind

#: state filter of the public list -> its label; the query for each is in eoi/views/public.py.
STATE_FILTERS = {
    "open": _l("Open for submissions"),
    "closed": _l("Closed, not yet decided"),
    "decided": _l("Decided"),
    "cancelled": _l("Cancelled"),
}
#: sort key -> label; the allow-list of orderings (the ORDER BY for each is in eoi/views/public.py).
SORTS = {
    "closing": _l("Closing soonest"),
    "newest": _l("Newest first"),
    "reference": _l("Reference"),
}
MAX_QUESTION = 4000
MAX_ANSWER = 200_000


def _required():
    return DataRequired(message=_l("This field is required."))


class ExerciseSearchForm(FilterForm):
    """The GET filter form of the public list: bad values are simply ignored."""

    q = StringField(_l("Search"), validators=[Optional(), Length(max=100)],
                    description=_l("Words from the title or the reference, in English or Chinese."))
    cluster = SelectField(_l("Service cluster"), validators=[Optional()])
    kind = SelectField(_l("Type"), validators=[Optional()])
    state = SelectField(_l("Status"), validators=[Optional()])
    sort = SelectField(_l("Sort by"), validators=[Optional()])

    def __init__(self, *args, clusters=(), locale: str = "en", **kwargs):
        super().__init__(*args, **kwargs)
        self.cluster.choices = [("", _l("All clusters"))] + [(c.code, c.name(locale)) for c in clusters]
        self.kind.choices = [("", _l("All types"))] + [(k.value, k.title) for k in ExerciseKind]
        self.state.choices = [("", _l("Any status"))] + list(STATE_FILTERS.items())
        self.sort.choices = list(SORTS.items())

    def filters(self) -> dict[str, str]:
        """The valid filter values (an invalid one is dropped, and its error shown at the field)."""
        return {name: (value or "").strip() for name, value in self.valid_data().items()}


class ClarificationForm(BaseForm):
    question = TextAreaField(_l("Your question"), validators=[_required(), Length(max=MAX_QUESTION)],
                             description=_l("Questions are answered to all vendors, without your company's name."))


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class SubscriptionsForm(BaseForm):
    clusters = MultiCheckboxField(_l("Service clusters"), coerce=int, validators=[Optional()],
                                  description=_l("We email you when an exercise in these clusters is published."))

    def __init__(self, *args, clusters=(), locale: str = "en", **kwargs):
        super().__init__(*args, **kwargs)
        self.clusters.choices = [(c.id, c.name(locale)) for c in clusters]


def answer_field_name(section_id: int) -> str:
    return f"answer_{section_id}"


class DraftForm(BaseForm):
    """The answers, one text area per section (fields added per exercise by for_sections). The proposal page sends
    it, with the prices and files, for every one of its actions; a client that sends only a file or only a submit
    may leave the answers and the draft version out."""
    draft_version = IntegerField(widget=HiddenInput(), validators=[Optional()])
    autosave = StringField(widget=HiddenInput(), validators=[Optional()])

    @classmethod
    def for_sections(cls, sections, locale: str, **kwargs) -> "DraftForm":
        form = _draft_form_class(cls, tuple((s.id, s.title(locale)) for s in sections))(**kwargs)
        form.sections = list(sections)
        return form

    def answer_fields(self):
        return [(s, self[answer_field_name(s.id)]) for s in self.sections]

    def answers(self) -> dict[int, str]:
        """Only the sections that were sent: a partial post never blanks the others."""
        return {s.id: f.data or "" for s, f in self.answer_fields() if f.raw_data}


# The per-exercise form classes are built once per process for the same fields (their labels included): building a
# WTForms class costs more than filling one in, and the proposal page and each of its actions need one.
@lru_cache(maxsize=256)
def _draft_form_class(cls, sections: tuple[tuple[int, str], ...]):
    return type("SectionDraftForm", (cls,), {
        answer_field_name(section_id): TextAreaField(title, validators=[Length(max=MAX_ANSWER)])
        for section_id, title in sections})


@lru_cache(maxsize=256)
def _price_form_class(cls, items: tuple[tuple[int, int], ...]):
    return type("ItemPriceForm", (cls,), {
        price_field_name(item_id): StringField(_l("Unit price of line %(n)s (HKD)", n=position),
                                               validators=[Length(max=30), _price_amount])
        for item_id, position in items})


def price_field_name(item_id: int) -> str:
    return f"price_{item_id}"


def _price_amount(form, field) -> None:
    if (field.data or "").strip():
        try:
            parse_price(field.data)
        except InvalidAmount as exc:
            raise ValidationError(exc.message) from exc


class PriceForm(BaseForm):
    """One unit price per price schedule line (fields added per exercise by for_items)."""

    @classmethod
    def for_items(cls, items, **kwargs) -> "PriceForm":
        form = _price_form_class(cls, tuple((i.id, i.position) for i in items))(**kwargs)
        form.items = list(items)
        return form

    def item_fields(self):
        return [(i, self[price_field_name(i.id)]) for i in self.items]

    def prices(self) -> dict[int, Decimal]:
        return {i.id: parse_price(f.data) for i, f in self.item_fields() if (f.data or "").strip()}


class WithdrawForm(BaseForm):
    confirm = BooleanField(_l("Yes, withdraw our proposal. We understand it will not be considered unless we submit "
                              "again before closing."),
                           validators=[DataRequired(message=_l("Tick the box to confirm the withdrawal."))])
