"""One way to show numbers, sizes and dates (app/i18n.py), the same in pages, emails and PDFs, in both languages."""
from __future__ import annotations

import re
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from flask_babel import force_locale

from app.i18n import file_size, hk_datetime, hkd, number, percent

ROOT = Path(__file__).resolve().parents[2]
MOMENT = datetime(2026, 12, 22, 13, 3, 47, tzinfo=timezone.utc)  # 21:03:47 in Hong Kong


@pytest.mark.parametrize("locale, fmt, expected", [
    ("en", "minutes", "22 Dec 2026, 21:03"),
    ("en", "medium", "22 Dec 2026, 21:03"),
    ("en", "long", "22 December 2026, 21:03"),
    ("en", "full", "22 December 2026, 21:03:47"),
    ("en", "date", "22 December 2026"),
    ("en", "time", "21:03"),
    ("zh_Hant", "minutes", "2026年12月22日 下午9:03"),
    ("zh_Hant", "long", "2026年12月22日 下午9:03"),
    ("zh_Hant", "full", "2026年12月22日 下午9:03:47"),
    ("zh_Hant", "seconds", "2026年12月22日 下午9:03:47"),
    ("zh_Hant", "date", "2026年12月22日"),
    ("zh_Hant", "time", "下午9:03"),
])
def test_dates_read_naturally_in_hong_kong_time(app, locale, fmt, expected):
    with app.test_request_context(), force_locale(locale):
        assert hk_datetime(MOMENT, fmt) == expected
        assert hk_datetime(MOMENT.replace(tzinfo=None), fmt) == expected  # naive values are UTC (SQLite)


def test_a_chinese_date_never_shows_a_zone_offset_or_evening_period(app):
    with app.test_request_context(), force_locale("zh_Hant"):
        for fmt in ("short", "medium", "long", "full"):
            text = hk_datetime(MOMENT, fmt)
            assert "[" not in text and "+0800" not in text and "晚上" not in text, text


@pytest.mark.parametrize("locale", ["en", "zh_Hant"])
def test_numbers_percentages_amounts_and_sizes(app, locale):
    with app.test_request_context(), force_locale(locale):
        assert percent(Decimal("70.00")) == "70%"
        assert percent(Decimal("70").normalize()) == "70%"       # Decimal("7E+1") is never shown as such
        assert percent(Decimal("12.50")) == "12.5%"
        assert number(Decimal("1E+2")) == "100"
        assert number(Decimal("1200")) == "1,200"
        assert hkd(Decimal("1234.5")) == "HK$1,234.50"
        assert hkd(0) == "HK$0.00"
        assert file_size(20 * 1024 * 1024) == "20\u00a0MB"
        assert file_size(1536) == "1.5\u00a0KB"
        assert file_size(312) == "312\u00a0B"
        assert hk_datetime(None) == hkd(None) == percent(None) == file_size(None) == ""


def test_templates_show_numbers_and_dates_only_through_the_filters():
    """Fix the kind: no template formats a number, size or date by itself (Decimal.normalize() printed "7E+1";
    Jinja's filesizeformat counts in 1000s and read "21.0 MB" for a 20 MB limit)."""
    forbidden = re.compile(r"\.normalize\(\)|\.strftime\(|\.isoformat\(\)|\|\s*round\b|\|\s*format\(|\"%[0-9.]*f\"")
    allowed = {"pdf/bench_letter.html"}  # benchmark fixture, not shown to users
    offenders = []
    for path in (ROOT / "templates").rglob("*"):
        if path.suffix in {".html", ".txt"} and str(path.relative_to(ROOT / "templates")) not in allowed:
            for n, line in enumerate(path.read_text().splitlines(), 1):
                if forbidden.search(line.replace('"%06d"|format', "")):
                    offenders.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()[:100]}")
    assert not offenders, offenders


def test_the_public_criteria_table_shows_weights_as_percentages(client):
    from tests.factories import create_published_exercise
    from scoring.models import Criterion, Envelope
    from app.extensions import db
    exercise = create_published_exercise()
    db.session.add(Criterion(exercise=exercise, position=1, name_en="Approach", name_zh="方針", envelope=Envelope.technical,
                             weight=Decimal("70.00"), max_score=10))
    db.session.add(Criterion(exercise=exercise, position=2, name_en="Team", name_zh="團隊", envelope=Envelope.technical,
                             weight=Decimal("30.00"), max_score=10))
    db.session.commit()
    page = client.get(f"/exercises/{exercise.id}").get_data(as_text=True)
    assert "70%" in page and "30%" in page
    assert "E+" not in page


def test_inline_lists_are_separated_as_each_language_writes_them(app, client):
    """"A, B" in English, "A、B" in Chinese (CLDR's list pattern), on pages and in refusals alike; no template
    writes its own comma between list items."""
    from app.extensions import db
    from app.i18n import list_separator, sentences
    from tests.factories import clusters, create_published_exercise
    with app.test_request_context(), force_locale("zh_Hant"):
        assert list_separator() == "、"
    with app.test_request_context(), force_locale("en"):
        assert list_separator() == ", "
        assert sentences(["One.", "Two."]) == "One. Two."
    with app.test_request_context(), force_locale("zh_Hant"):
        assert sentences(["一。", "二。"]) == "一。二。"  # no space between Chinese sentences
    exercise = create_published_exercise()
    first, second = clusters()[:2]
    exercise.clusters = [first, second]
    db.session.commit()
    english = client.get(f"/exercises/{exercise.id}").get_data(as_text=True)
    assert f"{first.name_en}, {second.name_en}" in english
    client.get(f"/language/zh_Hant?next=/exercises/{exercise.id}")
    chinese = client.get(f"/exercises/{exercise.id}").get_data(as_text=True)
    assert f"{first.name_zh}、{second.name_zh}" in chinese and f"{first.name_zh}, " not in chinese
    hand_written = re.compile(r"loop\.last %\}[,;、] |join\([\"'][,;]|(%\}|\}\})[,;] \{\{ ?_\(")
    offenders = [f"{path.relative_to(ROOT)}:{n}" for path in (ROOT / "templates").rglob("*.html")
                 for n, line in enumerate(path.read_text().splitlines(), 1) if hand_written.search(line)]
    assert not offenders, offenders
