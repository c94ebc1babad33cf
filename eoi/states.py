"""Exercise and submission states with their allowed transitions (used by app.states.transition)."""
from __future__ import annotations

import enum

from flask_babel import lazy_gettext as _l


class ExerciseKind(str, enum.Enum):
    eoi = "eoi"
    tender = "tender"

    @property
    def title(self) -> str:
        return str({ExerciseKind.eoi: _l("Expression of Interest"), ExerciseKind.tender: _l("Restricted tender")}[self])


class ExerciseState(str, enum.Enum):
    draft = "draft"
    published = "published"
    closed = "closed"
    opened = "opened"
    evaluating = "evaluating"
    decided = "decided"
    concluded = "concluded"
    cancelled = "cancelled"

    @property
    def title(self) -> str:
        return str(EXERCISE_STATE_TITLES[self])


EXERCISE_STATE_TITLES = {
    ExerciseState.draft: _l("Draft"),
    ExerciseState.published: _l("Open for submissions"),
    ExerciseState.closed: _l("Closed"),
    ExerciseState.opened: _l("Opened"),
    ExerciseState.evaluating: _l("Under evaluation"),
    ExerciseState.decided: _l("Decided"),
    ExerciseState.concluded: _l("Concluded"),
    ExerciseState.cancelled: _l("Cancelled"),
}

EXERCISE_TRANSITIONS = {
    ExerciseState.draft: {ExerciseState.published, ExerciseState.cancelled},
    ExerciseState.published: {ExerciseState.closed, ExerciseState.cancelled},
    ExerciseState.closed: {ExerciseState.opened, ExerciseState.cancelled, ExerciseState.published},
    ExerciseState.opened: {ExerciseState.evaluating, ExerciseState.cancelled},
    ExerciseState.evaluating: {ExerciseState.decided, ExerciseState.cancelled},
    ExerciseState.decided: {ExerciseState.concluded},
}


class SubmissionState(str, enum.Enum):
    draft = "draft"
    submitted = "submitted"
    withdrawn = "withdrawn"

    @property
    def title(self) -> str:
        return str({SubmissionState.draft: _l("Draft"), SubmissionState.submitted: _l("Submitted"),
                    SubmissionState.withdrawn: _l("Withdrawn")}[self])


SUBMISSION_TRANSITIONS = {
    SubmissionState.draft: {SubmissionState.submitted},
    SubmissionState.submitted: {SubmissionState.withdrawn},
    SubmissionState.withdrawn: {SubmissionState.draft, SubmissionState.submitted},
}


class OpeningState(str, enum.Enum):
    """One two-officer opening of a box: started by a named officer, completed by a different named officer."""
    started = "started"
    completed = "completed"
    cancelled = "cancelled"

    @property
    def title(self) -> str:
        return str({OpeningState.started: _l("Started, awaiting a second officer"),
                    OpeningState.completed: _l("Completed"), OpeningState.cancelled: _l("Cancelled")}[self])


OPENING_TRANSITIONS = {
    OpeningState.started: {OpeningState.completed, OpeningState.cancelled},
}


class OpeningEnvelope(str, enum.Enum):
    """What an opening unseals: the technical proposals, or (later, two-envelope tenders) the prices."""
    technical = "technical"
    price = "price"

    @property
    def title(self) -> str:
        return str({OpeningEnvelope.technical: _l("Technical"), OpeningEnvelope.price: _l("Price")}[self])


class IncidentState(str, enum.Enum):
    """A deadline incident takes effect at once before closing; one that re-opens a closed box waits for a
    second named officer's confirmation (pending), who may also decline it."""
    pending = "pending"
    effective = "effective"
    declined = "declined"

    @property
    def title(self) -> str:
        return str({IncidentState.pending: _l("Awaiting a second officer"), IncidentState.effective: _l("In effect"),
                    IncidentState.declined: _l("Declined")}[self])


INCIDENT_TRANSITIONS = {
    IncidentState.pending: {IncidentState.effective, IncidentState.declined},
}
