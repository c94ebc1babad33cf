"""Decisions with approval (shortlists and awards, standstill and challenges) and the contracts for the service
clusters that follow an award: terms, fee models, KPIs, risk allocation, variations, the contract PDF (signed,
verifiable) and the contractor's KPI reports."""
import logging

from flask import Blueprint, Flask
from flask_babel import lazy_gettext as _l

bp = Blueprint("contracts", __name__, url_prefix="/contracts")
logger = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    """Register the area with the app: its pages, its contract and letter documents, the letters'
    panels on the exercise pages (officer's link, public award notice).
    Called by the app factory; calling it again changes nothing."""
    from app.auth.models import Role
    from app.hooks import ExercisePanel, HomePanel, hooks
    from contracts import labels
    from contracts.decision_views import approver_home, exercise_decision_panel
    from contracts.documents import build_contract, build_letter, letter_name
    from contracts.letter_views import award_notice_panel, letters_link_panel
    from contracts.performance import build_performance_report, performance_report_name

    if bp.name not in app.blueprints:
        app.register_blueprint(bp)
    registry = hooks(app)
    registry.add_document_builder("contract", _l("Contract"), build_contract)
    registry.add_document_builder("letter", _l("Letter"), build_letter, letter_name)
    registry.add_exercise_panel("contracts.award_notice", ExercisePanel("public", "contracts/_award_notice.html",
                                                                        award_notice_panel))
    registry.add_exercise_panel("contracts.letters_link", ExercisePanel("manage", "contracts/_letters_link.html",
                                                                        letters_link_panel))
    registry.add_document_builder("performance_report", _l("Annual performance report"), build_performance_report,
                                  name=performance_report_name)
    registry.add_audit_labels(labels.ACTIONS, labels.OBJECTS)
    registry.add_menu_item("contracts.register", _l("Contracts"), Role.officer, Role.approver, Role.admin)
    registry.add_menu_item("contracts.my_contracts", _l("My contracts"), Role.vendor)
    registry.add_menu_item("contracts.my_letters", _l("My letters"), Role.vendor)
    registry.add_menu_item("contracts.decisions", _l("Decisions"), Role.officer, Role.approver, Role.admin)
    registry.add_menu_item("contracts.my_decisions", _l("Decisions"), Role.vendor)
    registry.add_home_panel("contracts.approvals", HomePanel(frozenset({Role.approver}), "contracts/_home_approvals.html",
                                                             approver_home))
    registry.add_exercise_panel("contracts.decision", ExercisePanel("manage", "contracts/_decision_panel.html",
                                                                    exercise_decision_panel))


from contracts import decision_views, documents, letter_models, letter_views, models, tasks, views  # noqa: E402,F401
