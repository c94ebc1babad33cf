"""Account states with their allowed transitions (used by app.states.transition)."""
from __future__ import annotations

import enum

from flask_babel import lazy_gettext as _l


class InvitationState(str, enum.Enum):
    pending = "pending"
    accepted = "accepted"
    revoked = "revoked"

    @property
    def title(self) -> str:
        return str(INVITATION_STATE_TITLES[self])


INVITATION_STATE_TITLES = {
    InvitationState.pending: _l("Waiting for acceptance"),
    InvitationState.accepted: _l("Accepted"),
    InvitationState.revoked: _l("Revoked"),
}

INVITATION_TRANSITIONS = {
    InvitationState.pending: {InvitationState.accepted, InvitationState.revoked},
}
