"""Evaluation: criteria, assessment panels, conflicts of interest, score sheets and moderation."""
from flask import Blueprint, Flask
from flask_babel import lazy_gettext as _l

bp = Blueprint("scoring", __name__, url_prefix="/scoring")


def init_app(app: Flask) -> None:
    """Register the area with the app: its pages, its publication check and its panels on the exercise pages.
    Called by the app factory; calling it again changes nothing."""
    from app.auth.models import Role
    from app.hooks import ExercisePanel, HomePanel, hooks
    from scoring import labels
    from scoring.operations import criteria_problems, price_gate
    from scoring.views import criteria_link_panel, criteria_panel
    from scoring.documents import PRICE_RECORD_KIND, build_price_opening_record, price_opening_record_name
    from scoring.report import BLIND_REPORT_KIND, REPORT_KIND, build_report, report_name
    from scoring.views.panels import home_queue, panel_link_panel
    from scoring.views.report import home_reports

    if bp.name not in app.blueprints:
        app.register_blueprint(bp)
    registry = hooks(app)
    registry.add_publication_check("scoring.criteria_weights", criteria_problems)
    registry.add_price_opening_gate("scoring.technical_sign_off", price_gate)
    registry.add_audit_labels(labels.ACTIONS, labels.OBJECTS)
    registry.add_exercise_panel("scoring.criteria", ExercisePanel("public", "scoring/_criteria_panel.html", criteria_panel))
    registry.add_exercise_panel("scoring.criteria_link", ExercisePanel("manage", "scoring/_criteria_link.html",
                                                                       criteria_link_panel))
    registry.add_exercise_panel("scoring.panel_link", ExercisePanel("manage", "scoring/_panel_link.html",
                                                                    panel_link_panel))
    registry.add_home_panel("scoring.queue", HomePanel(frozenset({Role.panel}), "scoring/_home_queue.html", home_queue))
    registry.add_home_panel("scoring.reports", HomePanel(frozenset({Role.approver}), "scoring/_home_reports.html",
                                                         home_reports))
    registry.add_document_builder(REPORT_KIND, _l("Evaluation report"), build_report, report_name,
                                  readers=report_readers)
    registry.add_document_builder(BLIND_REPORT_KIND, _l("Evaluation report (proposals by letter)"), build_report,
                                  report_name, readers=report_readers)
    registry.add_document_builder(PRICE_RECORD_KIND, _l("Price opening record"), build_price_opening_record,
                                  price_opening_record_name, readers=price_record_readers)


def report_readers(user, doc) -> bool:
    """The evaluation report through any route: who may read it on its page, in the version meant for them."""
    from app.extensions import db
    from scoring.models import Panel
    from scoring.permissions import can_read_report, report_kind_for
    panel = db.session.get(Panel, doc.subject_id) if doc.subject_type == "Panel" else None
    return panel is not None and can_read_report(user, panel) and doc.kind == report_kind_for(user, panel)


def price_record_readers(user, doc) -> bool:
    """The price opening record: the officers who manage the exercise and approvers (no administrator)."""
    from app.auth.models import Role
    from app.extensions import db
    from eoi.models import Exercise
    from eoi.permissions import can_manage_exercise
    exercise = db.session.get(Exercise, doc.subject_id) if doc.subject_type == "Exercise" else None
    if exercise is None:
        return False
    return can_manage_exercise(user, exercise) or getattr(user, "role", None) == Role.approver


from scoring import models, operations, views  # noqa: E402,F401
