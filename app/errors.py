"""Domain errors with translatable messages, and friendly error pages (never a trace)."""
from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Flask, current_app, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import Forbidden, HTTPException

logger = logging.getLogger(__name__)


class DomainError(Exception):
    """A broken business rule; the message is shown to the user in their language.

    Raised by operations and answered in one place (app.boundary): the request's transaction is rolled back,
    then the refusal is answered with a flash and a redirect, a re-rendered form, or JSON with `status_code`.
    `redirect_to` names the page to go back to when the operation knows it better than the view.
    """

    default_message = _l("This action is not allowed.")
    status_code = 409  # the request conflicts with a rule or the current state (JSON answers)

    def __init__(self, message=None, *, redirect_to: str | None = None, **params):
        self._message = message or self.default_message
        self.params = params
        self.redirect_to = redirect_to
        self.after_rollback: list[Callable[[], object]] = []
        super().__init__(str(self._message))

    @property
    def message(self) -> str:
        return str(self._message) % self.params if self.params else str(self._message)

    def record_after_rollback(self, recorder: Callable[[], object]) -> DomainError:
        """Keep a record of this refusal (a late attempt, a failed password): the boundary rolls the refused
        work back, then runs recorder in a transaction of its own and commits it. Returns self, to raise."""
        self.after_rollback.append(recorder)
        return self


def require(condition: bool) -> None:
    """Raise 403 unless condition holds (object-level permission check in views)."""
    if not condition:
        raise Forbidden()


_TITLES = {
    400: _l("Bad request"),
    403: _l("Not allowed"),
    404: _l("Page not found"),
    405: _l("Not allowed"),
    413: _l("File too large"),
    429: _l("Too many attempts"),
    500: _l("Something went wrong"),
}
_TEXTS = {
    400: _l("The request could not be understood. Please go back and try again."),
    403: _l("You do not have permission to see this page."),
    404: _l("We could not find that page. Check the address or go back to the home page."),
    405: _l("That action is not available here."),
    413: _l("The file is larger than the limit allowed."),
    429: _l("Too many attempts. Please wait a minute and try again."),
    500: _l("An unexpected error happened. Nothing was saved. Please try again."),
}


_SAVED_THEN_FAILED = _l("Your changes were saved, but an error happened afterwards. Reload the page to see them.")
_UNAVAILABLE_TITLE = _l("Tenderbox is temporarily unavailable")
_UNAVAILABLE_TEXT = _l("The service cannot reach its database at the moment. What you saved before is safe. If you "
                       "were sending a form, check whether it was saved once the service is back. Please try again "
                       "in a minute.")
RETRY_AFTER_SECONDS = 30


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def database_unreachable(exc: BaseException | None) -> bool:
    """Whether exc (or what caused it) says the database cannot be reached, rather than a bug or a refused query."""
    import sqlalchemy.exc as sa_exc
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, (sa_exc.OperationalError, sa_exc.InterfaceError)) or \
                (isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated):
            return True
        if type(exc).__module__.startswith("psycopg") and type(exc).__name__ in {"OperationalError", "InterfaceError"}:
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def _language_without_database() -> str:
    """The visitor's language from the session's choice or the browser, never from the (maybe unreachable) user row."""
    from flask import session
    languages = current_app.config["LANGUAGES"]
    try:
        chosen = session.get("lang")
    except Exception:  # a session that cannot be read is no reason to fail the error page
        chosen = None
    if chosen in languages:
        return chosen
    best = request.accept_languages.best_match(["en", "zh-Hant", "zh-TW", "zh-HK", "zh"])
    return "zh_Hant" if best and best.startswith("zh") else "en"


def standalone_error_page(code: int, title, text):
    """An error page that needs neither the database nor the signed-in user: both languages, the visitor's first."""
    from flask_babel import force_locale
    first = _language_without_database()
    order = [first] + [code_ for code_ in ("en", "zh_Hant") if code_ != first]
    parts = []
    for language in order:
        with force_locale(language):
            parts.append({"lang": "zh-Hant" if language == "zh_Hant" else "en", "title": str(title),
                          "text": str(text), "home": str(_l("Go to the home page"))})
    if _wants_json():
        response = jsonify(error=parts[0]["text"], status=code)
    else:
        # Straight from the template environment: render_template's context processors would load the user.
        page = current_app.jinja_env.get_template("errors/standalone.html").render(code=code, parts=parts)
        response = current_app.response_class(page, mimetype="text/html")
    response.status_code = code
    if code == 503:
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response.headers["Cache-Control"] = "no-store"
    return response


def _unavailable_response():
    return standalone_error_page(503, _UNAVAILABLE_TITLE, _UNAVAILABLE_TEXT)


def _error_response(code: int, message: str | None = None):
    text = message or str(_TEXTS.get(code, _TEXTS[500]))
    if _wants_json():
        return jsonify(error=text, status=code), code
    try:
        return render_template("errors/error.html", code=code, title=_TITLES.get(code, _TITLES[500]), text=text), code
    except Exception as exc:  # the page itself needs the user (the database): answer without it
        if database_unreachable(exc):
            _rollback_quietly()
            return _unavailable_response()
        logger.exception("the error page for %s failed", code)
        return standalone_error_page(code, _TITLES.get(code, _TITLES[500]), text)


def too_large_message() -> str:
    """What a request over MAX_CONTENT_LENGTH is told, in the user's language, with the limit."""
    from flask_babel import gettext as _
    from app.i18n import file_size
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    return _("What you sent is larger than %(limit)s, the most one page can send at a time, so nothing was saved. "
             "Go back with your browser's Back button: what you typed is usually still in the form. Then send "
             "smaller files, or one file at a time.", limit=file_size(limit) if limit else "")


def too_large_response():
    """413: a page that says the limit and what to do (the request body was not read)."""
    return _error_response(413, too_large_message())


def _rollback_quietly() -> None:
    from app.extensions import db
    try:
        db.session.rollback()
    except Exception:  # the connection is gone: nothing to roll back that the database will keep
        logger.warning("rollback failed after an error (the database connection is gone)")


def register_error_handlers(app: Flask) -> None:
    from app.boundary import answer_refusal
    app.register_error_handler(DomainError, answer_refusal)

    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        from flask_babel import gettext as _
        from flask_login import current_user
        if not current_user.is_authenticated:  # the session (and its CSRF token) expired while the user typed
            from app.held_forms import hold_and_sign_in
            if (response := hold_and_sign_in()) is not None:
                return response
        return _error_response(400, _("Your form expired or was sent twice. Please reload the page and try again."))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if exc.code == 413:
            return too_large_response()
        return _error_response(exc.code or 500)

    @app.errorhandler(Exception)
    def unexpected_error(exc: Exception):
        _rollback_quietly()
        if database_unreachable(exc):
            logger.error("database unreachable on %s: %s", request.path, exc)
            return _unavailable_response()
        logger.exception("unhandled error on %s", request.path)
        from flask import g
        if g.get("tenderbox_committed"):  # the request's one transaction committed: never say it did not
            return _error_response(500, str(_SAVED_THEN_FAILED))
        return _error_response(500)
