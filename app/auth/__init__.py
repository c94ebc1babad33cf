"""Accounts and roles: vendor self-registration, sign-in, email verification, password reset, invitations."""
from flask import Blueprint

bp = Blueprint("auth", __name__)


@bp.record_once
def _init(state) -> None:
    from app.auth.throttle import init_throttle
    from app.hooks import hooks
    init_throttle(state.app)
    hooks(state.app).add_periodic_task("expire-registrations", "auth.expire_registrations", 3600.0)


from app.auth import tasks, views  # noqa: E402,F401
