"""Decisions, awards, contracts and KPIs (built in a later issue)."""
from flask import Blueprint, Flask

bp = Blueprint("contracts", __name__, url_prefix="/contracts")


def init_app(app: Flask) -> None:
    """Register the area with the app (called by the app factory; calling it again changes nothing)."""
    if bp.name not in app.blueprints:
        app.register_blueprint(bp)
