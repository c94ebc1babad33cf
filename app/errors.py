"""Domain errors with translatable messages, and friendly error pages (never a trace)."""
from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import Forbidden, HTTPException

logger = logging.getLogger(__name__)


class DomainError(Exception):
    """A broken business rule; the message is shown to the user in their language."""

    default_message = _l("This action is not allowed.")

    def __init__(self, message=None, **params):
        self._message = message or self.default_message
        self.params = params
        super().__init__(str(self._message))

    @property
    def message(self) -> str:
        return str(self._message) % self.params if self.params else str(self._message)


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
