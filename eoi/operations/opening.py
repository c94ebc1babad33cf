"""Closing the box at the deadline and the two-officer opening."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.audit import record
from app.auth.models import Role, User
from app.auth.passwords import verify_password
from app.db import now_utc
from app.documents.service import queue_document
from app.extensions import db
from app.states import transition
from eoi.models import Exercise
from eoi.operations.common import ExerciseError, require_officer, require_state
from eoi.states import ExerciseState


def close_exercise(exercise: Exercise, *, actor=None) -> bool:
    """Mark a published exercise closed once its closing time has passed (idempotent)."""
    if exercise.state != ExerciseState.published or not exercise.is_closed_at(now_utc()):
        return False
    exercise.closed_at = now_utc()
    transition(exercise, ExerciseState.closed, actor=actor, action="exercise.closed", closes_at=exercise.closes_at.isoformat())
    return True


def start_opening(exercise: Exercise, *, actor: User) -> None:
    """The first officer starts the opening; a second, different officer must confirm (invariant 3)."""
    require_officer(actor)
    close_exercise(exercise, actor=actor)
    require_state(exercise, ExerciseState.closed)
    if exercise.first_opener_id not in (None, actor.id):
        raise ExerciseError(_l("The opening was already started by another officer; confirm it as the second officer."))
    exercise.first_opener_id, exercise.opening_started_at = actor.id, now_utc()
    record(actor, "exercise.opening_started", exercise)


def confirm_opening(exercise: Exercise, *, actor: User, password: str) -> Exercise:
    """The second officer re-authenticates; the box opens and the opening record PDF is queued."""
    require_officer(actor)
    require_state(exercise, ExerciseState.closed)
    if exercise.first_opener_id is None:
        raise ExerciseError(_l("The opening has not been started by a first officer."))
    if exercise.first_opener_id == actor.id:
        raise ExerciseError(_l("A second, different officer must confirm the opening."))
    first = db.session.get(User, exercise.first_opener_id)
    if exercise.opening_started_at < exercise.closes_at or not (first.is_enabled and first.role == Role.officer):
        raise ExerciseError(_l("The opening must be started again by an active officer after the closing time."))
    if not verify_password(actor.password_hash, password or ""):
        record(actor, "exercise.opening_reauth_failed", exercise)
        raise ExerciseError(_l("Your password was not correct; the box stays sealed."))
    exercise.second_opener_id, exercise.opened_at = actor.id, now_utc()
    transition(exercise, ExerciseState.opened, actor=actor, action="exercise.opened",
               first_officer=exercise.first_opener_id, second_officer=actor.id)
    queue_document("opening_record", exercise, language="en", vendor_id=None, actor=actor)
    return exercise


def close_due_exercises(now: datetime | None = None) -> int:
    """Periodic: close every published exercise whose closing time has passed."""
    due = db.session.scalars(sa.select(Exercise).where(Exercise.state == ExerciseState.published,
                                                       Exercise.closes_at <= (now or now_utc()))).all()
    return sum(close_exercise(e) for e in due)
