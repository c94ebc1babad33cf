"""The proposal page's per-exercise forms: their classes are built once per set of fields and shared, never their
data (issue 6, item 15: building a WTForms class per request cost more than filling one in)."""
from __future__ import annotations

from decimal import Decimal

from werkzeug.datastructures import MultiDict

from eoi.forms.vendor import DraftForm, PriceForm, answer_field_name, price_field_name
from tests.factories import create_published_exercise


def test_draft_form_class_is_shared_per_sections_and_language_but_not_its_data(app):
    exercise = create_published_exercise(sections=2)
    first, second = exercise.sections
    with app.test_request_context():
        typed = DraftForm.for_sections(exercise.sections, "en", formdata=MultiDict({answer_field_name(first.id): "Ours."}))
        fresh = DraftForm.for_sections(exercise.sections, "en", formdata=None)
        chinese = DraftForm.for_sections(exercise.sections, "zh_Hant", formdata=None)
        only_first = DraftForm.for_sections([first], "en", formdata=None)
    assert type(typed) is type(fresh)
    assert fresh[answer_field_name(first.id)].data is None and typed.answers() == {first.id: "Ours."}
    assert fresh.sections == [first, second] and only_first.sections == [first]
    assert answer_field_name(second.id) not in only_first
    assert fresh[answer_field_name(second.id)].label.text == second.title("en")
    assert chinese[answer_field_name(second.id)].label.text == second.title("zh_Hant")
    assert (type(chinese) is type(fresh)) == (second.title("zh_Hant") == second.title("en") and
                                             first.title("zh_Hant") == first.title("en"))


def test_price_form_class_follows_its_lines(app):
    exercise = create_published_exercise(price_items=2)
    line, other = exercise.price_items
    with app.test_request_context():
        typed = PriceForm.for_items(exercise.price_items, meta={"csrf": False},
                                    formdata=MultiDict({price_field_name(line.id): "1,250.50"}))
        fresh = PriceForm.for_items(exercise.price_items, meta={"csrf": False}, formdata=None)
        empty = PriceForm.for_items([], meta={"csrf": False}, formdata=None)
        assert typed.validate() and typed.prices() == {line.id: Decimal("1250.50")}
        assert [i for i, _field in fresh.item_fields()] == [line, other]
        assert type(typed) is type(fresh) and fresh[price_field_name(line.id)].data is None
        assert f"line {line.position}" in str(fresh[price_field_name(line.id)].label.text)
    assert price_field_name(line.id) not in empty and empty.items == []
