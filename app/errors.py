"""Domain errors with translatable messages, and friendly error pages (never a trace)."""
from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Flask, jsonify, render_template, request
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


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def _error_response(code: int, message: str | None = None):
    text = message or str(_TEXTS.get(code, _TEXTS[500]))
    if _wants_json():
        return jsonify(error=text, status=code), code
    return render_template("errors/error.html", code=code, title=_TITLES.get(code, _TITLES[500]), text=text), code


def register_error_handlers(app: Flask) -> None:
    from app.boundary import answer_refusal
    app.register_error_handler(DomainError, answer_refusal)

    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        from flask_babel import gettext as _
        return _error_response(400, _("Your form expired or was sent twice. Please reload the page and try again."))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        return _error_response(exc.code or 500)

    @app.errorhandler(Exception)
    def unexpected_error(exc: Exception):
        logger.exception("unhandled error on %s", request.path)
        from app.extensions import db
        db.session.rollback()
        return _error_response(500)
