"""Guards and the error shared by the officer-side operations of the eoi area (app.guards, specialised)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from app.auth.models import Role, User
from app import guards
from app.guards import ActionRefused, require_role
from eoi.models import Exercise
from eoi.states import ExerciseState


class ExerciseError(ActionRefused):
    pass


def require_officer(actor: User) -> None:
    require_role(actor, Role.officer, error=ExerciseError)


def require_state(exercise: Exercise, *states: ExerciseState) -> None:
    guards.require_state(exercise, *states, error=ExerciseError, message=_l(
        "This action is not possible while the exercise is %(state)s.", state=exercise.effective_state.title))


def require_setup_open(exercise: Exercise) -> None:
    """The set-up changes only in a draft whose publication is not ordered yet (an ordered publication is what the
    officer confirmed, including who is told; withdraw the order to change it)."""
    require_state(exercise, ExerciseState.draft)
    if exercise.is_scheduled:
        raise ExerciseError(_l("Publication of this exercise is ordered for its publication date: withdraw the order "
                               "to change the set-up."))
