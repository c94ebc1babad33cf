"""Exercises (EOI and tenders): publication, clarifications, addenda, submissions, opening."""
import logging

from flask import Blueprint

bp = Blueprint("eoi", __name__)
logger = logging.getLogger(__name__)

from eoi import documents, models, tasks, views  # noqa: E402,F401
