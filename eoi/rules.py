"""Pure rules of the eoi area (no database, no request): word counts, HKD amounts, a proposal's completeness.

Operations, forms, views and templates use these; none of them repeats the rule."""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l

from app.errors import DomainError

_WORD_BREAKS = "，。、；：！？,.;:!?()（）「」"
MAX_AMOUNT = Decimal("1e12")
_GROUPED_LEVEL = re.compile(r"^-?\d{1,3}(,\d{3})+(\.\d+)?$")


class InvalidAmount(DomainError):
    default_message = _l("Enter an amount in Hong Kong dollars, e.g. 1,250,000.00.")
    status_code = 400


def word_count(text: str) -> int:
    """Words for limits: Latin words by spaces, each CJK character counts as one word."""
    count, in_word = 0, False
    for ch in text or "":
        if "\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff":
            count, in_word = count + 1, False
        elif ch.isspace() or ch in _WORD_BREAKS:
            in_word = False
        elif not in_word:
            count, in_word = count + 1, True
    return count


def parse_price(value: str) -> Decimal:
    """Strict HKD amount: digits with optional thousands commas and up to 2 decimals, not negative.
    Raises InvalidAmount."""
    cleaned = (value or "").replace(",", "").replace("HK$", "").strip()
    try:
        amount = Decimal(cleaned)
    except InvalidOperation as exc:
        raise InvalidAmount() from exc
    if not amount.is_finite() or amount < 0 or amount.as_tuple().exponent < -2 or amount >= MAX_AMOUNT:
        raise InvalidAmount()
    return amount.quantize(Decimal("0.01"))


def parse_level(text: str | None) -> Decimal | None:
    """A committed service level as typed in a proposal ("99.9", "1,250", "2 "); None unless it is one finite
    number (letters, a unit, a decimal comma, NaN and exponents are not)."""
    cleaned = (text or "").strip()
    if "," in cleaned:  # thousands separators only: "98,6" (a decimal comma) is refused, not read as 986
        if not _GROUPED_LEVEL.match(cleaned):
            return None
        cleaned = cleaned.replace(",", "")
    if not cleaned or any(ch not in "0123456789.-" for ch in cleaned):
        return None
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    return value if value.is_finite() and abs(value) < MAX_AMOUNT else None


def completeness_problems(sections: Iterable, answers: Mapping[int, str], sections_with_files: set,
                          price_items: Iterable = (), priced_items: set | None = None, *, locale="en") -> list[str]:
    """Everything still missing before a proposal can be submitted (the whole list, to fix in one pass):
    required answers, word limits, required attachments, and every price line when there is a price envelope."""
    problems = []
    for section in sections:
        text = answers.get(section.id, "")
        label = f"{section.position}. {section.title(locale)}"
        if section.answer_required and not text.strip():
            problems.append(str(_l("Section %(s)s needs an answer.", s=label)))
        if getattr(section, "is_service_level", False) and text.strip() and parse_level(text) is None:
            problems.append(str(_l("Section %(s)s needs one number: the service level you commit to.", s=label)))
        if section.word_limit and word_count(text) > section.word_limit:
            problems.append(str(_l("Section %(s)s is over its limit of %(n)s words.", s=label, n=section.word_limit)))
        if section.attachment_required and section.id not in sections_with_files:
            problems.append(str(_l("Section %(s)s needs an attachment.", s=label)))
    if priced_items is not None and any(item.id not in priced_items for item in price_items):
        problems.append(str(_l("Price every line of the price schedule.")))
    return problems
