"""The one state-change helper: checks the object's transition table and audits the change."""
from __future__ import annotations

import enum
from typing import Any

from flask_babel import lazy_gettext as _l

from app.audit import record
from app.errors import DomainError


class InvalidTransition(DomainError):
    default_message = _l("This action is not possible in the current state.")


def transition(obj: Any, new_state: enum.Enum, *, actor, action: str, reason: str | None = None, **details: Any) -> None:
    """Move obj to new_state if its class's TRANSITIONS table allows it; raise InvalidTransition otherwise."""
    old_state = obj.state
    if new_state not in type(obj).TRANSITIONS.get(old_state, set()):
        raise InvalidTransition()
    obj.state = new_state
    extra = {"reason": reason} if reason else {}
    record(actor, action, obj, **{"from": old_state.value, "to": new_state.value}, **extra, **details)
