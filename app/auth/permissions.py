"""Role checks for views: role_required() and the login manager's user loader."""
from __future__ import annotations

from functools import wraps

from flask_login import current_user, login_required
from werkzeug.exceptions import Forbidden

from app.auth.models import ColleagueInvitation, Role, User
from app.extensions import db, login_manager


@login_manager.user_loader
def load_user(user_key: str) -> User | None:
    """Cookie holds "id.session_version": a bumped version (sign-out, password change) rejects old cookies."""
    user_id, _, version = user_key.partition(".")
    if not user_id.isdigit() or not version.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    if user is None or user.session_version != int(version) or not user.is_active:
        return None
    return user


@login_manager.unauthorized_handler
def unauthorized():
    """Not signed in (or the session expired): to the sign-in page and back. A form whose view keeps typed text
    (app.held_forms) has its text held first, and given back on its page after signing in again."""
    from flask import redirect, request
    from flask_login import login_url

    from app.held_forms import hold_and_sign_in
    return hold_and_sign_in() or redirect(login_url("auth.login", next_url=request.url))


def role_required(*roles: Role):
    """Signed-in users with one of roles only; others get 403 (anonymous users go to sign-in)."""
    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                raise Forbidden()
            return view(*args, **kwargs)
        wrapped.allowed_roles = roles
        return wrapped
    return decorator


def can_revoke_invitation(user, invitation: ColleagueInvitation) -> bool:
    """Any user of the inviting company may withdraw its invitations (issue 6 item 13); nobody else."""
    return getattr(user, "role", None) == Role.vendor and user.vendor_id == invitation.vendor_id
