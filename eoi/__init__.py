"""Exercises (EOI and tenders): publication, clarifications, addenda, submissions, opening."""
import logging

from flask import Blueprint

bp = Blueprint("eoi", __name__, url_prefix="/exercises")
logger = logging.getLogger(__name__)
