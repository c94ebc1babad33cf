"""Pure rules of the eoi area: word counts, strict HKD amounts, the forced extension after a late addendum."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from eoi.models import Exercise, minimum_closing_after_addendum
from eoi.operations import SubmissionError, parse_price, word_count


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
    with pytest.raises(SubmissionError, match="Enter an amount in Hong Kong dollars"):
        parse_price(raw)


def test_late_addendum_forces_the_minimum_extension(app):
    closes = datetime(2006, 9, 29, 4, 0, tzinfo=timezone.utc)
    exercise = Exercise(closes_at=closes, late_addendum_hours=72, min_extension_hours=48)
    early = closes - timedelta(days=5)
    assert minimum_closing_after_addendum(exercise, early) is None
    late = closes - timedelta(hours=10)
    assert minimum_closing_after_addendum(exercise, late) == late + timedelta(hours=48)
