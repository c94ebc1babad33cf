"""Language choice, Hong Kong time and HKD formatting for templates."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask import Flask, current_app, has_request_context, request, session
from flask_babel import format_datetime, get_locale

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


def hk_datetime(value: datetime | None, fmt: str = "medium") -> str:
    if value is None:
        return ""
    return format_datetime(value, fmt)


def hkd(amount: Decimal | int | None) -> str:
    if amount is None:
        return ""
    return f"HK${Decimal(amount):,.2f}"


def number(value: Decimal | int | None) -> str:
    """A quantity without trailing zeros or exponent: 99.5000 -> "99.5", 70 -> "70", 1250000 -> "1,250,000"."""
    if value is None:
        return ""
    text = format(Decimal(value).normalize(), ",f")
    return text


def html_lang() -> str:
    return "zh-Hant" if str(get_locale()) == "zh_Hant" else "en"


def init_i18n(app: Flask) -> None:
    app.jinja_env.filters["hk_datetime"] = hk_datetime
    app.jinja_env.filters["hkd"] = hkd
    app.jinja_env.filters["number"] = number
    app.jinja_env.filters["reject_page"] = lambda args: {k: v for k, v in args.items() if k != "page"}
    app.jinja_env.globals["html_lang"] = html_lang
    app.jinja_env.globals["current_locale"] = lambda: str(get_locale())
    from app.hooks import hooks
    app.jinja_env.globals["document_titles"] = hooks(app).document_titles  # filled as areas register
