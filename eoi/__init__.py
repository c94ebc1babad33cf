"""Exercises (EOI and tenders): publication, clarifications, addenda, submissions, opening."""
import logging

from flask import Blueprint

bp = Blueprint("eoi", __name__)
logger = logging.getLogger(__name__)


@bp.record_once
def _register_hooks(state) -> None:
    """Declared hooks into app/, registered when the app factory registers this blueprint."""
    from eoi.audit_scopes import register_sealed_activity
    register_sealed_activity(state.app)

from eoi import documents, models, tasks, views  # noqa: E402,F401
