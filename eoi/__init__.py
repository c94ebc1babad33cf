"""Exercises (EOI and tenders): publication, clarifications, addenda, submissions, opening."""
import logging

from flask import Blueprint, Flask
from flask_babel import lazy_gettext as _l

bp = Blueprint("eoi", __name__)
logger = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    """Register the area with the app: its pages, its documents, its periodic closing of exercises and which audit
    events are about sealed submissions.
    Called by the app factory; calling it again changes nothing."""
    from app.hooks import hooks
    from eoi.audit_scopes import register_sealed_activity
    from eoi.cli import register_cli
    from eoi.documents import build_opening_record, build_submission_receipt

    if bp.name not in app.blueprints:
        app.register_blueprint(bp)
    registry = hooks(app)
    registry.add_document_builder("submission_receipt", _l("Submission receipt"), build_submission_receipt)
    registry.add_document_builder("opening_record", _l("Opening record"), build_opening_record)
    registry.add_periodic_task("close-due-exercises", "eoi.close_due_exercises", 15.0)
    register_sealed_activity(registry)
    register_cli(app)


from eoi import documents, models, tasks, views  # noqa: E402,F401
