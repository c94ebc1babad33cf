"""Deadline incidents: a platform failure near closing extends closing for everyone, in public. Re-opening a
closed box needs two of the officers named to open it: one records, a different one confirms."""
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
from eoi.operations.opening import cancel_started_opening, close_exercise, require_opening_officer
from eoi.queries import pending_incident
from eoi.states import ExerciseState, IncidentState


def record_deadline_incident(exercise: Exercise, *, actor: User, new_closes_at: datetime, reason_en: str,
                             reason_zh: str, evidence: str) -> DeadlineIncident:
    """A platform failure near closing: extend closing for everyone, publish the reason, audit it. Before closing
    it takes effect at once; after closing it re-opens the box only once a second named officer confirms it."""
    require_officer(actor)
    close_exercise(exercise, actor=actor)
    require_state(exercise, ExerciseState.published, ExerciseState.closed)
    if not all(s.strip() for s in (reason_en, reason_zh, evidence)):
        raise ExerciseError(_l("Give the reason in both languages and the evidence."))
    now = now_utc()
    if new_closes_at <= max(now, exercise.closes_at):
        raise ExerciseError(_l("The new closing time must be later than both now and the current closing time."))
    reopens = exercise.state == ExerciseState.closed
    if reopens:
        require_opening_officer(exercise, actor)
        if pending_incident(exercise) is not None:
            raise ExerciseError(_l("Another deadline incident awaits a second officer: confirm or decline it first."))
    incident = DeadlineIncident(exercise_id=exercise.id, recorded_by_id=actor.id, reason_en=reason_en.strip(),
                                reason_zh=reason_zh.strip(), evidence=evidence.strip(), requires_confirmation=reopens,
                                state=IncidentState.pending if reopens else IncidentState.effective,
                                effective_at=None if reopens else now,
                                previous_closes_at=exercise.closes_at, new_closes_at=new_closes_at, recorded_at=now)
    db.session.add(incident)
    db.session.flush()
    record(actor, "deadline_incident.recorded", incident, exercise_id=exercise.id, reopens_box=reopens,
           previous_closes_at=incident.previous_closes_at.isoformat(), new_closes_at=new_closes_at.isoformat())
    if not reopens:
        _extend_closing(exercise, incident, actor=actor)
    return incident


def confirm_deadline_incident(incident: DeadlineIncident, *, actor: User) -> DeadlineIncident:
    """A second named officer confirms an incident recorded after closing: the box re-opens until the new closing
    time, and a started opening is cancelled. Raises ExerciseError."""
    require_officer(actor)
    exercise = incident.exercise
    if incident.state != IncidentState.pending:
        raise ExerciseError(_l("This deadline incident is not awaiting confirmation."))
    if incident.recorded_by_id == actor.id:
        raise ExerciseError(_l("A second, different officer must confirm the deadline incident."))
    require_opening_officer(exercise, actor)
    close_exercise(exercise, actor=actor)
    require_state(exercise, ExerciseState.closed)
    if exercise.closes_at != incident.previous_closes_at or incident.new_closes_at <= now_utc():
        raise ExerciseError(_l("This incident's new closing time no longer fits: decline it and record a new one."))
    incident.confirmed_by_id, incident.effective_at = actor.id, now_utc()
    transition(incident, IncidentState.effective, actor=actor, action="deadline_incident.confirmed",
               exercise_id=exercise.id)
    _extend_closing(exercise, incident, actor=actor)
    return incident


def decline_deadline_incident(incident: DeadlineIncident, *, actor: User) -> DeadlineIncident:
    """The recorder withdraws, or another named officer declines, an incident awaiting confirmation; the box
    stays closed. Raises ExerciseError."""
    require_officer(actor)
    if incident.state != IncidentState.pending:
        raise ExerciseError(_l("This deadline incident is not awaiting confirmation."))
    if incident.recorded_by_id != actor.id:
        require_opening_officer(incident.exercise, actor)
    incident.declined_by_id, incident.declined_at = actor.id, now_utc()
    transition(incident, IncidentState.declined, actor=actor, action="deadline_incident.declined",
               exercise_id=incident.exercise_id)
    db.session.flush()
    return incident


def _extend_closing(exercise: Exercise, incident: DeadlineIncident, *, actor: User) -> None:
    exercise.closes_at = incident.new_closes_at
    if exercise.state == ExerciseState.closed:
        exercise.closed_at = None
        cancel_started_opening(exercise, actor=actor, reason="A deadline incident re-opened the box.")
        transition(exercise, ExerciseState.published, actor=actor, action="exercise.reopened_by_incident",
                   incident_id=incident.id)
    db.session.flush()
    record(actor, "exercise.deadline_extended", exercise, incident_id=incident.id,
           previous_closes_at=incident.previous_closes_at.isoformat(),
           new_closes_at=incident.new_closes_at.isoformat(), reason=incident.reason_en)
    notify_interested(exercise, "deadline_extended", incident=incident)
