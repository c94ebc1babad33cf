"""Guards and the error shared by the officer-side operations of the eoi area."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from app.auth.models import Role, User
from app.errors import DomainError
from eoi.models import Exercise
from eoi.states import ExerciseState


class ExerciseError(DomainError):
    pass


def require_officer(actor: User) -> None:
    if actor.role != Role.officer:
        raise ExerciseError(_l("Only procurement officers can do this."))


def require_state(exercise: Exercise, *states: ExerciseState) -> None:
    if exercise.state not in states:
        raise ExerciseError(_l("This action is not possible while the exercise is %(state)s.", state=exercise.state.title))
