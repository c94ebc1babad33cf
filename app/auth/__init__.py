"""Accounts and roles: vendor self-registration, sign-in, email verification, password reset, invitations."""
from flask import Blueprint

bp = Blueprint("auth", __name__)

from app.auth import views  # noqa: E402,F401
