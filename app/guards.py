"""Generic guards for operations of every area: the actor's role and the object's state.

They raise ActionRefused (or the area's own subclass, given as `error`), a DomainError whose message the
request boundary shows to the user.
"""
from __future__ import annotations

import enum
from typing import Any

from flask_babel import lazy_gettext as _l

from app.auth.models import Role
from app.errors import DomainError


class ActionRefused(DomainError):
    """A refused action: wrong role, wrong state, or a rule of the area (areas subclass it)."""


_ONLY = {Role.officer: _l("Only procurement officers can do this.")}


def require_role(actor: Any, *roles: Role, error: type[ActionRefused] = ActionRefused, message=None) -> None:
    """Raise error unless actor holds one of roles."""
    if getattr(actor, "role", None) not in roles:
        raise error(message or (_ONLY.get(roles[0]) if len(roles) == 1 else None))


def require_state(obj: Any, *states: enum.Enum, error: type[ActionRefused] = ActionRefused, message=None) -> None:
    """Raise error unless obj.state is one of states (the default message names the current state)."""
    if obj.state not in states:
        raise error(message or _l("This action is not possible in the current state (%(state)s).",
                                  state=getattr(obj.state, "title", obj.state)))
