"""Accounts and roles: vendor self-registration, sign-in, email verification, password reset, invitations."""
from flask import Blueprint

bp = Blueprint("auth", __name__)


@bp.record_once
def _init(state) -> None:
    from app.auth.throttle import init_throttle
    init_throttle(state.app)


from app.auth import tasks, views  # noqa: E402,F401
