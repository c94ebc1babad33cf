"""Exercises (EOI and tenders): publication, clarifications, addenda, submissions, opening."""
import logging

from flask import Blueprint, Flask
from flask_babel import lazy_gettext as _l

bp = Blueprint("eoi", __name__)
logger = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    """Register the area with the app: its pages, its documents, its periodic closing of exercises, its home-page panels and which audit
    events are about sealed submissions.
    Called by the app factory; calling it again changes nothing."""
    from app.auth.models import Role
    from app.hooks import HomePanel, hooks
    from eoi.views.home import officer_home, vendor_home
    from eoi.audit_scopes import register_audit_labels, register_sealed_activity
    from eoi.cli import register_cli
    from eoi.documents import (build_opening_record, build_submission_receipt, opening_record_name,
                               submission_receipt_name)
    from eoi.sealed import describe_damage

    if bp.name not in app.blueprints:
        app.register_blueprint(bp)
    registry = hooks(app)
    registry.add_document_builder("submission_receipt", _l("Submission receipt"), build_submission_receipt,
                                  submission_receipt_name)
    registry.add_document_builder("opening_record", _l("Opening record"), build_opening_record, opening_record_name)
    registry.add_periodic_task("close-due-exercises", "eoi.close_due_exercises", 15.0)
    registry.add_periodic_task("publish-due-exercises", "eoi.publish_due_exercises", 15.0)
    register_sealed_activity(registry)
    register_audit_labels(registry)
    registry.add_home_panel("eoi.vendor", HomePanel(frozenset({Role.vendor}), "eoi/home/vendor.html", vendor_home))
    registry.add_home_panel("eoi.officer", HomePanel(frozenset({Role.officer}), "eoi/home/officer.html", officer_home))
    app.add_template_filter(describe_damage, "damage")  # an opening's findings, worded in the reader's language
    register_cli(app)


from eoi import documents, models, tasks, views  # noqa: E402,F401
