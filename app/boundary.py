"""The one request and transaction boundary.

A view loads, checks, calls operations and, on success, commits once (`commit()`). An operation that refuses
raises a DomainError; the handler registered here (`answer_refusal`) is the only place that answers it:

1. roll back everything the request did (nothing half-saved);
2. run the refusal's `record_after_rollback` recorders in a transaction of their own and commit it
   (late attempts, a failed opening password, failed sign-ins are kept although the work is not);
3. answer: JSON `{error, status}` for `/api/` and JSON-accepting requests; otherwise the form the view
   registered with `on_refusal(render=...)` is re-rendered with the user's input and the message (at a field or
   flashed), or the message is flashed and the user is sent back (`redirect_to` of the error, then of
   `on_refusal`, then the app page the request came from, then home).

Views never catch DomainError and never commit after a failure (tests/app/test_boundary.py checks both).
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import flash, g, has_request_context, jsonify, redirect, request, url_for

from app.errors import DomainError, _wants_json
from app.extensions import db

logger = logging.getLogger(__name__)

_ENVIRON_KEY = "tenderbox.refusal_answer"  # per request (an app context may outlive one, as in tests)


@dataclass(frozen=True)
class RefusalAnswer:
    redirect_to: str | None = None
    render: Callable[[DomainError], object] | None = None
    field: object | None = None
    status: int = 400


def on_refusal(*, redirect_to: str | None = None, render: Callable[[DomainError], object] | None = None,
               field=None, status: int = 400) -> None:
    """Say how this request answers a refusal (the last call wins): go back to redirect_to; or re-render the page
    the user sent with render(error), their input kept, the message added to form field `field` when given
    (flashed otherwise), answered with status."""
    request.environ[_ENVIRON_KEY] = RefusalAnswer(redirect_to=redirect_to, render=render, field=field, status=status)


def commit(message: str | None = None) -> None:
    """Commit the request's one transaction, then flash message (the success) if given. Once it has committed, an
    error later in the request is answered as "saved, then failed", never as "nothing was saved"."""
    db.session.commit()
    if has_request_context():
        g.tenderbox_committed = True
    if message:
        flash(message, "success")


def record_refusal(error: DomainError) -> None:
    """Run the error's recorders in their own transaction (the caller has rolled the refused work back)."""
    if not error.after_rollback:
        return
    try:
        for recorder in error.after_rollback:
            recorder()
        db.session.commit()
    except Exception:  # the refusal is still answered; the failure to record it is logged loudly
        logger.exception("could not record a refusal on %s", request.path if has_request_context() else "-")
        db.session.rollback()


def rollback_refused(error: DomainError) -> None:
    """Steps 1 and 2: undo the refused work, keep the record of the refusal. For tasks and the CLI too."""
    db.session.rollback()
    record_refusal(error)


def _back_url() -> str:
    """The app page the user came from (same host only), or home; never the refused URL itself."""
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc == request.host and referrer.path.startswith("/") and not referrer.path.startswith("//"):
        target = referrer.path + (f"?{referrer.query}" if referrer.query else "")
        if target != request.full_path.rstrip("?") or request.method != "GET":
            return target
    return url_for("main.home")


def answer_refusal(error: DomainError):
    """The registered DomainError handler: roll back, record the refusal, answer."""
    rollback_refused(error)
    message = error.message
    if _wants_json():
        return jsonify(error=message, status=error.status_code), error.status_code
    answer: RefusalAnswer = request.environ.get(_ENVIRON_KEY) or RefusalAnswer()
    if answer.render is not None and error.redirect_to is None:
        if answer.field is not None:
            answer.field.errors = [*answer.field.errors, message]
        else:
            flash(message, "error")
        response = answer.render(error)
        # A refusal that is the server's condition (a full disk: 503) keeps its own status over the form's 400.
        status = error.status_code if error.status_code >= 500 else answer.status
        return (response[0] if isinstance(response, tuple) else response), status
    flash(message, "error")
    return redirect(error.redirect_to or answer.redirect_to or _back_url())
