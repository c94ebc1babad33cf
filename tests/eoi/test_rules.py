"""Pure rules of the eoi area (eoi.rules): word counts, strict HKD amounts, completeness; the forced extension
after a late addendum."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from eoi.models import Exercise, minimum_closing_after_addendum
from eoi.rules import InvalidAmount, completeness_problems, parse_price, word_count


@pytest.mark.parametrize("text, expected", [
    ("", 0), ("one two  three", 3), ("公私營合作", 5), ("PPP 模式 works.", 4), ("a,b;c", 3), ("「入門網站」服務", 6),
])
def test_word_count_counts_cjk_characters_as_words(text, expected):
    assert word_count(text) == expected


@pytest.mark.parametrize("raw, expected", [
    ("1250000", Decimal("1250000.00")), ("1,250,000.5", Decimal("1250000.50")), ("HK$ 99.99", Decimal("99.99")), ("0", Decimal("0.00")),
])
def test_parse_price_accepts_hkd_amounts(raw, expected):
    assert parse_price(raw) == expected


@pytest.mark.parametrize("raw", ["", "-1", "1.234", "abc", "NaN", "Infinity", "1e20", "12,34x"])
def test_parse_price_rejects_everything_else(raw):
    with pytest.raises(InvalidAmount, match="Enter an amount in Hong Kong dollars"):
        parse_price(raw)


def test_late_addendum_forces_the_minimum_extension(app):
    closes = datetime(2006, 9, 29, 4, 0, tzinfo=timezone.utc)
    exercise = Exercise(closes_at=closes, late_addendum_hours=72, min_extension_hours=48)
    early = closes - timedelta(days=5)
    assert minimum_closing_after_addendum(exercise, early) is None
    late = closes - timedelta(hours=10)
    assert minimum_closing_after_addendum(exercise, late) == late + timedelta(hours=48)


class _Section:
    def __init__(self, id, *, required=False, limit=None, attachment=False):
        self.id, self.position, self.answer_required = id, id, required
        self.word_limit, self.attachment_required = limit, attachment

    def title(self, locale):
        return f"S{self.id}"


class _Item:
    def __init__(self, id):
        self.id = id


def test_completeness_lists_every_problem_at_once():
    sections = [_Section(1, required=True), _Section(2, limit=3), _Section(3, attachment=True)]
    problems = completeness_problems(sections, {1: "  ", 2: "one two three four"}, set(), [_Item(1), _Item(2)], {1})
    assert problems == ["Section 1. S1 needs an answer.", "Section 2. S2 is over its limit of 3 words.",
                        "Section 3. S3 needs an attachment.", "Price every line of the price schedule."]


def test_a_complete_proposal_has_no_problems():
    sections = [_Section(1, required=True), _Section(2, limit=3), _Section(3, attachment=True)]
    assert completeness_problems(sections, {1: "Yes.", 2: "one two three"}, {3}, [_Item(1)], {1}) == []
    assert completeness_problems(sections[:1], {1: "Yes."}, set(), [_Item(1)], None) == []  # no price envelope
