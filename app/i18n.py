"""Language choice, Hong Kong time and HKD formatting for templates."""
from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_datetime as babel_format_datetime
from babel.numbers import format_currency, format_decimal
from flask import Flask, current_app, has_request_context, request, session
from flask_babel import get_locale
from markupsafe import Markup

HK = ZoneInfo("Asia/Hong_Kong")


def select_locale() -> str:
    """Session choice first (the language switch), then the user's saved choice, then the browser."""
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # CLI, Celery task: no session, user or browser to ask
        return current_app.config.get("BABEL_DEFAULT_LOCALE", "en")
    if session.get("lang") in languages:
        return session["lang"]
    from flask_login import current_user
    if getattr(current_user, "is_authenticated", False) and current_user.locale in languages:
        return current_user.locale
    best = request.accept_languages.best_match(["en", "zh-Hant", "zh-TW", "zh-HK", "zh"])
    return "zh_Hant" if best and best.startswith("zh") else "en"


def safe_next_url(target: str | None) -> str | None:
    """Only the app's own paths are accepted as redirect targets (no scheme, no host, no //)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    return target


# One way to show numbers, sizes and dates, the same in pages, emails and PDFs: every template and every message
# built in code goes through these (registered as filters below; tests/app/test_formatting.py keeps templates on them).
# Dates use fixed patterns per language rather than CLDR's named lengths, which give "晚上9:03:47 [+0800]" in
# Chinese and a 12-hour clock in English: 24-hour times in English, 上午/下午 in Chinese, Hong Kong time always.
_DATE_PATTERNS = {
    "en": {"minutes": "d MMM y, HH:mm", "long": "d MMMM y, HH:mm", "seconds": "d MMMM y, HH:mm:ss", "precise": "d MMMM y, HH:mm:ss.SSS",
           "date": "d MMMM y", "time": "HH:mm"},
    "zh_Hant": {"minutes": "y年M月d日 ah:mm", "long": "y年M月d日 ah:mm", "seconds": "y年M月d日 ah:mm:ss", "precise": "y年M月d日 ah:mm:ss.SSS",
                "date": "y年M月d日", "time": "ah:mm"},
}
# The names templates used before (CLDR lengths) map onto the patterns above.
_FORMAT_ALIASES = {"short": "minutes", "medium": "minutes", "full": "seconds"}


def page_language() -> str:
    """The language of this request's page as the catalogues name it: "zh_Hant" or "en"."""
    locale = str(get_locale() or "en")
    return "zh_Hant" if locale.startswith("zh") else "en"





def hk_datetime(value: datetime | None, fmt: str = "minutes") -> str:
    """A moment in Hong Kong time: "22 Dec 2026, 21:03" / "2026年12月22日 下午9:03". fmt: minutes (default),
    long (month in full), seconds (receipts, records), date, time."""
    if value is None:
        return ""
    locale = page_language()
    pattern = _DATE_PATTERNS[locale][_FORMAT_ALIASES.get(fmt, fmt)]
    if value.tzinfo is None:  # stored UTC without zone (SQLite)
        from datetime import timezone
        value = value.replace(tzinfo=timezone.utc)
    return babel_format_datetime(value, pattern, tzinfo=HK, locale=locale)


def hk_time(value: datetime | None) -> str:
    """A time of day on Hong Kong time ("21:03", "下午9:03"): the proposal page's "Saved at"."""
    return hk_datetime(value, "time")


def hk_datetime_precise(value: datetime | None) -> str:
    """To the millisecond (a receipt time next to a closing time in the same second: "21:50:42.653" is
    self-evidently after "21:50:42")."""
    return hk_datetime(value, "precise")


def iso_utc(value: datetime | date | None) -> str:
    """A machine-readable instant or day for scripts, form values and data attributes ("2026-12-22T13:03:00+00:00",
    "2026-12-22"), never shown as text; a time stored without its zone (SQLite) is UTC."""
    if value is None:
        return ""
    if not isinstance(value, datetime):
        return value.isoformat()
    from datetime import timezone
    return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).isoformat()


def day(value: date | None) -> str:
    """A calendar day (contract terms, milestones): "22 December 2026" / "2026年12月22日"."""
    if value is None:
        return ""
    from babel.dates import format_date
    locale = page_language()
    return format_date(value, _DATE_PATTERNS[locale]["date"], locale=locale)


def month(value: date | None) -> str:
    """A month (reporting periods): "December 2026" / "2026年12月"."""
    if value is None:
        return ""
    from babel.dates import format_date
    locale = page_language()
    return format_date(value, "MMMM y" if locale == "en" else "y年M月", locale=locale)


def hkd(amount: Decimal | int | None) -> str:
    """An amount in Hong Kong dollars with cents: "HK$1,234.50"."""
    if amount is None:
        return ""
    return format_currency(Decimal(amount), "HKD", format="HK$#,##0.00", locale=page_language(), currency_digits=False)


def percent(value: Decimal | int | float | None) -> str:
    """A percentage given in points (a weight of 70 is "70%", 12.5 is "12.5%")."""
    if value is None:
        return ""
    return f"{number(value)}%"


_SIZE_UNITS = ("B", "KB", "MB", "GB", "TB")


def file_size(size: int | None) -> str:
    """A file size in binary units as file managers show them: 20 MB for 20 × 1024 × 1024 bytes (the upload
    limit and its error message both read "20 MB"), 1.5 KB, 312 B; a no-break space before the unit."""
    if size is None:
        return ""
    value, unit = Decimal(int(size)), 0
    while value >= 1024 and unit < len(_SIZE_UNITS) - 1:
        value, unit = value / 1024, unit + 1
    if unit == 0:
        return f"{format_decimal(value, format='#,##0', locale=page_language())}\u00a0B"  # no break: "77 B" stays whole
    return f"{format_decimal(value, format='#,##0.#', locale=page_language())}\u00a0{_SIZE_UNITS[unit]}"


def pdf_page_footer() -> Markup:
    """CSS `content` for the PDF page footer, "Page 1 of 2" / "第 1 頁，共 2 頁", built from one translated sentence."""
    from flask_babel import gettext
    text = gettext("Page %(page)s of %(pages)s", page="\x00", pages="\x01")
    parts = []
    for piece in re.split("(\x00|\x01)", text):
        if piece == "\x00":
            parts.append("counter(page)")
        elif piece == "\x01":
            parts.append("counter(pages)")
        elif piece:
            parts.append('"' + piece.replace("\\", "\\\\").replace('"', '\\"').replace("<", "\\3c ") + '"')
    return Markup(" ".join(parts))


def number(value: Decimal | int | None) -> str:
    """A quantity without trailing zeros or exponent: 99.5000 -> "99.5", 70 -> "70", 1250000 -> "1,250,000"."""
    if value is None:
        return ""
    text = format(Decimal(value).normalize(), ",f")
    return text


def sentences(parts) -> str:
    """Sentences one after another: a space between them in English, none in Chinese (each ends with its 。)."""
    return ("" if page_language() == "zh_Hant" else " ").join(str(part) for part in parts)


def list_separator() -> str:
    """Between the items of an inline list, from CLDR's list pattern: ", " in English, "、" in Chinese."""
    return Locale.parse(page_language()).list_patterns["standard"]["middle"].replace("{0}", "").replace("{1}", "")


def html_lang() -> str:
    return "zh-Hant" if str(get_locale()) == "zh_Hant" else "en"


def init_i18n(app: Flask) -> None:
    app.jinja_env.filters["hk_datetime"] = hk_datetime
    app.jinja_env.filters["hk_datetime_precise"] = hk_datetime_precise
    app.jinja_env.filters["hkd"] = hkd
    app.jinja_env.filters["iso_utc"] = iso_utc
    app.jinja_env.filters["day"] = day
    app.jinja_env.filters["month"] = month
    app.jinja_env.filters["hk_time"] = hk_time
    app.jinja_env.filters["number"] = number
    app.jinja_env.filters["percent"] = percent
    app.jinja_env.filters["file_size"] = file_size
    app.jinja_env.filters["filesizeformat"] = file_size  # Jinja's own counts in 1000s (21.0 MB for a 20 MB limit)
    app.jinja_env.filters["reject_page"] = lambda args: {k: v for k, v in args.items() if k != "page"}
    app.jinja_env.globals["html_lang"] = html_lang
    app.jinja_env.globals["list_separator"] = list_separator
    app.jinja_env.globals["sentences"] = sentences
    app.jinja_env.globals["pdf_page_footer"] = pdf_page_footer
    app.jinja_env.globals["current_locale"] = lambda: str(get_locale())
    from app.hooks import hooks
    app.jinja_env.globals["document_titles"] = hooks(app).document_titles  # filled as areas register
    app.jinja_env.globals["audit_action_label"] = hooks(app).audit_action_label
    app.jinja_env.globals["audit_object_label"] = hooks(app).audit_object_label
