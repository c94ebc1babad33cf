"""Closing the box at the deadline, the officers named to open it, and the two-officer opening (invariant 3)."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from app.audit import AuditEvent, record
from app.auth.models import Role, User
from app.auth.passwords import verify_password
from app.db import now_utc
from app.documents.service import queue_document
from app.extensions import db
from app.i18n import hk_datetime
from app.states import transition
from eoi.models import Exercise, Opening, OpeningOfficer
from eoi.operations.common import ExerciseError, require_officer, require_state
from eoi.permissions import can_take_part_in_opening
from eoi.queries import live_opening, pending_incident
from eoi.states import ExerciseState, OpeningState

PASSWORD_FAILED = "exercise.opening_reauth_failed"


def close_exercise(exercise: Exercise, *, actor=None) -> bool:
    """Mark a published exercise closed once its closing time has passed (idempotent)."""
    if exercise.state != ExerciseState.published or not exercise.is_closed_at(now_utc()):
        return False
    exercise.closed_at = now_utc()
    transition(exercise, ExerciseState.closed, actor=actor, action="exercise.closed", closes_at=exercise.closes_at.isoformat())
    return True


def close_due_exercises(now: datetime | None = None) -> int:
    """Periodic: close every published exercise whose closing time has passed."""
    due = db.session.scalars(sa.select(Exercise).where(Exercise.state == ExerciseState.published,
                                                       Exercise.closes_at <= (now or now_utc()))).all()
    return sum(close_exercise(e) for e in due)


# --- the officers named at publication -----------------------------------------------------------------------

def opening_officer_problems(officers: Sequence[User]) -> list[str]:
    """What is wrong with a choice of opening officers, as messages (empty when the choice is valid)."""
    minimum = current_app.config["OPENING_OFFICERS_MIN"]
    problems = [str(_l("%(name)s is not an active procurement officer and cannot be named to open the box.",
                       name=u.name)) for u in officers if u.role != Role.officer or not u.is_enabled]
    if len({u.id for u in officers}) < minimum:
        problems.append(str(_l("Name at least %(n)s officers who may open the box (any two of them open it, so one "
                               "absence does not block the opening).", n=minimum)))
    return problems


def name_opening_officers(exercise: Exercise, officers: Sequence[User], *, actor: User) -> list[OpeningOfficer]:
    """At publication, name the officers who alone may open the box (invariant 3). Officers who exist now only:
    the list is never added to later, so an account created or made an officer afterwards cannot take part."""
    if exercise.opening_officers:
        raise ExerciseError(_l("The opening officers were named when the exercise was published."))
    if problems := opening_officer_problems(officers):
        raise ExerciseError(" ".join(problems))
    now = now_utc()
    named = [OpeningOfficer(exercise_id=exercise.id, user_id=u.id, named_by_id=actor.id, named_at=now)
             for u in sorted({u.id: u for u in officers}.values(), key=lambda u: u.id)]
    exercise.opening_officers.extend(named)
    db.session.flush()
    record(actor, "exercise.opening_officers_named", exercise, officers=[{"id": u.id, "email": u.email} for u in
                                                                         sorted(officers, key=lambda u: u.id)])
    return named


def require_opening_officer(exercise: Exercise, actor: User) -> None:
    """Raise unless actor is a named opening officer who can still take part (invariant 3)."""
    if not can_take_part_in_opening(actor, exercise):
        raise ExerciseError(_l("Only the officers named when this exercise was published can open its box; you are "
                               "not one of them."))


# --- the two-officer opening ------------------------------------------------------------------------------------

def _require_no_pending_incident(exercise: Exercise) -> None:
    if pending_incident(exercise) is not None:
        raise ExerciseError(_l("A deadline incident that would re-open the box awaits a second officer's confirmation: "
                               "confirm or decline it before the opening."))


def cancel_started_opening(exercise: Exercise, *, actor, reason: str) -> Opening | None:
    """Cancel an opening that was started and not completed (the box re-opened, the exercise was cancelled, or
    its first officer can no longer take part)."""
    opening = live_opening(exercise)
    if opening is None or opening.state != OpeningState.started:
        return None
    opening.cancelled_at, opening.cancel_reason = now_utc(), reason
    transition(opening, OpeningState.cancelled, actor=actor, action="opening.cancelled", reason=reason,
               exercise_id=exercise.id)
    db.session.flush()
    return opening


def start_opening(exercise: Exercise, *, actor: User) -> Opening:
    """A named officer starts the opening after closing; a second, different named officer must confirm it.
    Starting again as the same officer changes nothing. Raises ExerciseError."""
    require_officer(actor)
    close_exercise(exercise, actor=actor)
    require_state(exercise, ExerciseState.closed)
    require_opening_officer(exercise, actor)
    _require_no_pending_incident(exercise)
    opening = live_opening(exercise)
    if opening is not None:
        if opening.started_by_id == actor.id:
            return opening
        if can_take_part_in_opening(opening.started_by, exercise):
            raise ExerciseError(_l("The opening was already started by %(name)s; confirm it as the second officer.",
                                   name=opening.started_by.name))
        cancel_started_opening(exercise, actor=actor, reason="The officer who started it can no longer take part.")
    opening = Opening(exercise_id=exercise.id, started_by_id=actor.id, started_at=now_utc(), state=OpeningState.started)
    db.session.add(opening)
    db.session.flush()
    record(actor, "exercise.opening_started", exercise, opening_id=opening.id)
    return opening


def _require_password_tries_left(exercise: Exercise, actor: User) -> None:
    """At most OPENING_PASSWORD_MAX_FAILURES wrong opening passwords per officer in OPENING_PASSWORD_WINDOW,
    counted from the audit log (so every process agrees); a refused try is audited too."""
    limit, window = current_app.config["OPENING_PASSWORD_MAX_FAILURES"], current_app.config["OPENING_PASSWORD_WINDOW"]
    failures = db.session.scalars(sa.select(AuditEvent.occurred_at).where(
        AuditEvent.actor_id == actor.id, AuditEvent.action == PASSWORD_FAILED,
        AuditEvent.occurred_at > now_utc() - window).order_by(AuditEvent.occurred_at.desc()).limit(limit)).all()
    if len(failures) >= limit:
        raise ExerciseError(_l("Too many wrong passwords: the box stays sealed. You can try again after %(time)s.",
                               time=hk_datetime(failures[-1] + window))).record_after_rollback(
            lambda: record(actor, "exercise.opening_reauth_throttled", exercise))


def confirm_opening(exercise: Exercise, *, actor: User, password: str) -> Exercise:
    """The second named officer re-authenticates; the box opens and the opening record PDF is queued.
    A wrong password is audited after the rollback (app.boundary) and throttled. Raises ExerciseError."""
    require_officer(actor)
    require_state(exercise, ExerciseState.closed)
    opening = live_opening(exercise)
    if opening is None:
        raise ExerciseError(_l("The opening has not been started by a first officer."))
    if opening.started_by_id == actor.id:
        raise ExerciseError(_l("A second, different officer must confirm the opening."))
    require_opening_officer(exercise, actor)
    if not can_take_part_in_opening(opening.started_by, exercise):
        raise ExerciseError(_l("The officer who started the opening can no longer take part; a named officer must "
                               "start it again."))
    _require_no_pending_incident(exercise)
    _require_password_tries_left(exercise, actor)
    if not verify_password(actor.password_hash, password or ""):
        raise ExerciseError(_l("Your password was not correct; the box stays sealed.")).record_after_rollback(
            lambda: record(actor, PASSWORD_FAILED, exercise))
    now = now_utc()
    opening.confirmed_by_id, opening.completed_at = actor.id, now
    transition(opening, OpeningState.completed, actor=actor, action="opening.completed", exercise_id=exercise.id)
    exercise.opened_at = now
    transition(exercise, ExerciseState.opened, actor=actor, action="exercise.opened",
               first_officer=opening.started_by_id, second_officer=actor.id)
    queue_document("opening_record", exercise, language="en", vendor_id=None, actor=actor)
    return exercise
