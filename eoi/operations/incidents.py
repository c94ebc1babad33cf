"""Deadline incidents: a platform failure near closing extends closing for everyone, in public."""
from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l

from app.audit import record
from app.auth.models import User
from app.db import now_utc
from app.extensions import db
from app.states import transition
from eoi.models import DeadlineIncident, Exercise
from eoi.operations.common import ExerciseError, require_officer, require_state
from eoi.operations.interest import notify_interested
from eoi.states import ExerciseState


def record_deadline_incident(exercise: Exercise, *, actor: User, new_closes_at: datetime, reason_en: str,
                             reason_zh: str, evidence: str) -> DeadlineIncident:
    """A platform failure near closing: extend closing for everyone, publish the reason, audit it."""
    require_officer(actor)
    require_state(exercise, ExerciseState.published, ExerciseState.closed)
    if not all(s.strip() for s in (reason_en, reason_zh, evidence)):
        raise ExerciseError(_l("Give the reason in both languages and the evidence."))
    now = now_utc()
    if new_closes_at <= max(now, exercise.closes_at):
        raise ExerciseError(_l("The new closing time must be later than both now and the current closing time."))
    incident = DeadlineIncident(exercise_id=exercise.id, recorded_by_id=actor.id, reason_en=reason_en.strip(),
                                reason_zh=reason_zh.strip(), evidence=evidence.strip(),
                                previous_closes_at=exercise.closes_at, new_closes_at=new_closes_at, recorded_at=now)
    db.session.add(incident)
    exercise.closes_at = new_closes_at
    if exercise.state == ExerciseState.closed:
        exercise.closed_at = None
        exercise.first_opener_id = exercise.opening_started_at = None  # the opening starts again after the new closing
        transition(exercise, ExerciseState.published, actor=actor, action="exercise.reopened_by_incident")
    db.session.flush()
    record(actor, "exercise.deadline_extended", exercise, incident_id=incident.id,
           previous_closes_at=incident.previous_closes_at.isoformat(), new_closes_at=new_closes_at.isoformat(),
           reason=reason_en.strip())
    notify_interested(exercise, "deadline_extended", incident=incident)
    return incident
