"""Evaluation: criteria now; panels, conflicts, score sheets and moderation in a later issue."""
from flask import Blueprint

bp = Blueprint("scoring", __name__, url_prefix="/scoring")

from scoring import models, operations, views  # noqa: E402,F401
