"""Read-side helpers of the eoi area shared by operations, views and documents, named for what they return."""
from __future__ import annotations

import sqlalchemy as sa

from app.auth.models import Role, User
from app.extensions import db
from eoi.models import Addendum, DeadlineIncident, Exercise, Opening, OpeningOfficer, Submission
from eoi.states import IncidentState, OpeningEnvelope, OpeningState, SubmissionState


def opening_officers_of(exercise: Exercise) -> list[User]:
    """The officers named at publication to open the box, whatever they can do today."""
    return list(db.session.scalars(sa.select(User).join(OpeningOfficer, OpeningOfficer.user_id == User.id)
                                   .where(OpeningOfficer.exercise_id == exercise.id).order_by(User.name, User.id)))


def able_opening_officers(exercise: Exercise) -> list[User]:
    """Named opening officers who can still take part: enabled accounts that still hold the officer role."""
    return [u for u in opening_officers_of(exercise) if u.is_enabled and u.role == Role.officer]


def live_opening(exercise: Exercise, envelope: OpeningEnvelope = OpeningEnvelope.technical) -> Opening | None:
    """The opening of that envelope that is started or completed (cancelled ones stay on record only)."""
    return db.session.scalar(sa.select(Opening).where(
        Opening.exercise_id == exercise.id, Opening.envelope == envelope, Opening.state != OpeningState.cancelled))


def completed_opening(exercise: Exercise, envelope: OpeningEnvelope = OpeningEnvelope.technical) -> Opening | None:
    opening = live_opening(exercise, envelope)
    return opening if opening is not None and opening.state == OpeningState.completed else None


def pending_incident(exercise: Exercise) -> DeadlineIncident | None:
    """A recorded deadline incident that would re-open the closed box and awaits a second officer."""
    return db.session.scalar(sa.select(DeadlineIncident).where(
        DeadlineIncident.exercise_id == exercise.id, DeadlineIncident.state == IncidentState.pending))


def incidents_of(exercise: Exercise, *, effective_only: bool = False) -> list[DeadlineIncident]:
    query = sa.select(DeadlineIncident).where(DeadlineIncident.exercise_id == exercise.id)
    if effective_only:
        query = query.where(DeadlineIncident.state == IncidentState.effective)
    return list(db.session.scalars(query.order_by(DeadlineIncident.recorded_at, DeadlineIncident.id)))


def standing_submissions(exercise: Exercise) -> list[Submission]:
    """Submissions that count at opening: submitted, and re-confirmed after any addendum that changed requirements."""
    return list(db.session.scalars(sa.select(Submission).where(
        Submission.exercise_id == exercise.id, Submission.standing()).order_by(Submission.submitted_at, Submission.id)))


def unconfirmed_submissions(exercise: Exercise) -> list[tuple[Submission, Addendum | None]]:
    """Submitted before an addendum that changed the requirements and not re-confirmed since, each with the first
    such addendum issued after it was submitted: listed at opening as such, never dropped silently (invariant 3)."""
    submissions = db.session.scalars(sa.select(Submission).where(
        Submission.exercise_id == exercise.id, Submission.state == SubmissionState.submitted,
        Submission.needs_reconfirmation.is_(True)).order_by(Submission.submitted_at, Submission.id)).all()
    addenda = [a for a in exercise.addenda if a.changes_requirements]
    return [(s, next((a for a in addenda if a.issued_at >= s.submitted_at), addenda[-1] if addenda else None))
            for s in submissions]
