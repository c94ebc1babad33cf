"""Evaluation: panels, conflicts, criteria, score sheets, moderation (built in a later issue)."""
from flask import Blueprint

bp = Blueprint("scoring", __name__, url_prefix="/scoring")
