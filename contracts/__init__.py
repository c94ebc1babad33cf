"""Decisions, awards, contracts and KPIs (built in a later issue)."""
from flask import Blueprint

bp = Blueprint("contracts", __name__, url_prefix="/contracts")
