"""Read-side helpers of the eoi area, named for what they return; shared by operations, views, documents and tasks."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.auth.models import Role, User, Vendor
from app.documents.models import Document
from app.extensions import db
from app.notifications import Notification
from eoi.models import (Acknowledgement, Addendum, Clarification, ClusterSubscription, DeadlineIncident, Exercise,
                        InterestRegistration, Invitation, LateAttempt, Opening, OpeningOfficer, ServiceCluster,
                        Submission, SubmissionVersion)
from eoi.permissions import public_condition
from eoi.states import (ExerciseKind, ExerciseState, IncidentState, OpeningEnvelope, OpeningState,
                        SubmissionState)


def exercises_with_standing_counts() -> list[tuple[Exercise, int]]:
    """Every exercise, newest first, with the number of submissions that stand (what the opening record counts)."""
    standing = (sa.select(sa.func.count(Submission.id)).where(Submission.exercise_id == Exercise.id,
                                                              Submission.standing())
                .correlate(Exercise).scalar_subquery())
    return db.session.execute(sa.select(Exercise, standing)
                              .order_by(Exercise.created_at.desc(), Exercise.id.desc())).all()


def received_submissions(exercise: Exercise) -> list[Submission]:
    """Who submitted (or withdrew) and when, with receipt numbers: never content (invariant 1)."""
    return list(db.session.scalars(sa.select(Submission).where(
        Submission.exercise_id == exercise.id, Submission.state != SubmissionState.draft)
        .order_by(Submission.submitted_at, Submission.id)))


def standing_submissions(exercise: Exercise) -> list[Submission]:
    """Submissions that count at opening (submitted, re-confirmed after any addendum that changed requirements):
    the opening page's count and the opening record's list are this one query."""
    return list(db.session.scalars(sa.select(Submission).where(
        Submission.exercise_id == exercise.id, Submission.standing()).order_by(Submission.submitted_at, Submission.id)))


def late_attempts(exercise: Exercise) -> list[LateAttempt]:
    return list(db.session.scalars(sa.select(LateAttempt).where(LateAttempt.exercise_id == exercise.id)
                                   .order_by(LateAttempt.received_at)))


def unanswered_question_count(exercise: Exercise) -> int:
    return db.session.scalar(sa.select(sa.func.count(Clarification.id)).where(
        Clarification.exercise_id == exercise.id, Clarification.published_at.is_(None)))


def latest_opening_record(exercise: Exercise, kind: str = "opening_record") -> Document | None:
    """The exercise's latest opening record (kind: another area's record of an opening, e.g. the price opening's)."""
    return db.session.scalar(sa.select(Document).where(
        Document.kind == kind, Document.subject_type == "Exercise", Document.subject_id == exercise.id)
        .order_by(Document.id.desc()).limit(1))


def all_clarifications(exercise: Exercise) -> list[Clarification]:
    """Unanswered questions first, then published ones, each in the order asked (the officer's page)."""
    return list(db.session.scalars(sa.select(Clarification).where(Clarification.exercise_id == exercise.id)
                                   .order_by(Clarification.published_at.is_not(None), Clarification.asked_at)))


def published_clarifications(exercise: Exercise) -> list[Clarification]:
    return list(db.session.scalars(sa.select(Clarification).where(
        Clarification.exercise_id == exercise.id, Clarification.published_at.is_not(None))
        .order_by(Clarification.number)))


def vendors_by_id(vendor_ids) -> dict[int, Vendor]:
    return {v.id: v for v in db.session.scalars(sa.select(Vendor).where(Vendor.id.in_(set(vendor_ids))))}


def service_clusters() -> list[ServiceCluster]:
    return list(db.session.scalars(sa.select(ServiceCluster).order_by(ServiceCluster.code)))


def subscribed_cluster_ids(vendor_id: int) -> set[int]:
    return set(db.session.scalars(sa.select(ClusterSubscription.cluster_id).where(
        ClusterSubscription.vendor_id == vendor_id)))


def submission_of(exercise: Exercise, vendor_id: int | None, *options) -> Submission | None:
    """The company's one submission in the exercise, if it started one (options: loader options for what the caller
    uses)."""
    return db.session.scalar(sa.select(Submission).where(Submission.exercise_id == exercise.id,
                                                         Submission.vendor_id == vendor_id).options(*options))


def has_registered_interest(exercise: Exercise, vendor_id: int) -> bool:
    return db.session.get(InterestRegistration, (exercise.id, vendor_id)) is not None


def questions_asked_by(exercise: Exercise, vendor_id: int) -> list[Clarification]:
    return list(db.session.scalars(sa.select(Clarification).where(
        Clarification.exercise_id == exercise.id, Clarification.vendor_id == vendor_id)
        .order_by(Clarification.asked_at.desc())))


def recent_notifications(user: User, limit: int) -> list[Notification]:
    return list(db.session.scalars(sa.select(Notification).where(Notification.user_id == user.id)
                                   .order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit)))


def versions_with_receipts(submission: Submission) -> list[tuple[SubmissionVersion, Document | None]]:
    """A proposal's versions, oldest first, each with its receipt document, in one query; they also become the
    submission's loaded `versions`, so reading them again costs nothing."""
    rows = db.session.execute(
        sa.select(SubmissionVersion, Document)
        .outerjoin(Document, Document.id == SubmissionVersion.receipt_document_id)
        .where(SubmissionVersion.submission_id == submission.id).order_by(SubmissionVersion.number)).all()
    so.attributes.set_committed_value(submission, "versions", [version for version, _doc in rows])
    return [tuple(row) for row in rows]


def user_by_id(user_id: int | None) -> User | None:
    return db.session.get(User, user_id) if user_id else None


# --- the opening -------------------------------------------------------------------------------------------

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


def opening_verification(exercise: Exercise, envelope: OpeningEnvelope = OpeningEnvelope.technical) -> list[dict]:
    """What the opening of envelope decrypted and checked, one entry per proposal it opened (issue 9)."""
    opening = completed_opening(exercise, envelope)
    return json.loads(opening.verification) if opening is not None and opening.verification else []


def pending_incident(exercise: Exercise) -> DeadlineIncident | None:
    """A recorded deadline incident that would re-open the closed box and awaits a second officer."""
    return db.session.scalar(sa.select(DeadlineIncident).where(
        DeadlineIncident.exercise_id == exercise.id, DeadlineIncident.state == IncidentState.pending))


def incidents_of(exercise: Exercise, *, effective_only: bool = False) -> list[DeadlineIncident]:
    query = sa.select(DeadlineIncident).where(DeadlineIncident.exercise_id == exercise.id)
    if effective_only:
        query = query.where(DeadlineIncident.state == IncidentState.effective)
    return list(db.session.scalars(query.order_by(DeadlineIncident.recorded_at, DeadlineIncident.id)))


def unconfirmed_submissions(exercise: Exercise) -> list[tuple[Submission, Addendum | None]]:
    """Submitted before an addendum that changed the requirements and not re-confirmed since, each with the first
    such addendum issued after it was submitted: listed at opening as such, never dropped silently (invariant 3)."""
    submissions = db.session.scalars(sa.select(Submission).where(
        Submission.exercise_id == exercise.id, Submission.state == SubmissionState.submitted,
        Submission.needs_reconfirmation.is_(True)).order_by(Submission.submitted_at, Submission.id)).all()
    addenda = [a for a in exercise.addenda if a.changes_requirements]
    return [(s, next((a for a in addenda if a.issued_at >= s.submitted_at), addenda[-1] if addenda else None))
            for s in submissions]


# --- the public list ---------------------------------------------------------------------------------------

_CLOSED_STATES = (ExerciseState.closed, ExerciseState.opened, ExerciseState.evaluating)


def _state_condition(name: str, now):
    """The public status filters; "open" and "closed" follow the server clock, not only the stored state."""
    published = Exercise.state == ExerciseState.published
    return {
        "open": sa.and_(published, Exercise.closes_at > now),
        "closed": sa.or_(sa.and_(published, Exercise.closes_at <= now), Exercise.state.in_(_CLOSED_STATES)),
        "decided": Exercise.state.in_((ExerciseState.decided, ExerciseState.concluded)),
        "cancelled": Exercise.state == ExerciseState.cancelled,
    }[name]


_ORDER = {
    "closing": (Exercise.closes_at.asc(), Exercise.id),
    "newest": (Exercise.published_at.desc(), Exercise.id.desc()),
    "reference": (Exercise.reference.asc(),),
}


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def public_exercises(filters: dict[str, str], now):
    """Published (never draft) exercises matching the filters; every value is a bound parameter."""
    query = sa.select(Exercise).where(public_condition())
    if text := filters.get("q"):
        pattern = _like(text)
        query = query.where(sa.or_(Exercise.title_en.ilike(pattern, escape="\\"),
                                   Exercise.title_zh.ilike(pattern, escape="\\"),
                                   Exercise.reference.ilike(pattern, escape="\\")))
    if code := filters.get("cluster"):
        query = query.where(Exercise.clusters.any(ServiceCluster.code == code))
    if kind := filters.get("kind"):
        query = query.where(Exercise.kind == ExerciseKind(kind))
    if state := filters.get("state"):
        query = query.where(_state_condition(state, now))
    return query.order_by(*_ORDER.get(filters.get("sort") or "closing", _ORDER["closing"]))


def next_public_change(now):
    """The next moment the clock alone changes a public page: the earliest closing time still ahead of a published
    exercise (its status becomes "closed"; the "open" and "closed" filters change with it)."""
    return db.session.scalar(sa.select(sa.func.min(Exercise.closes_at)).where(
        Exercise.state == ExerciseState.published, Exercise.closes_at > now))


# --- "My work": the home page of vendors and officers (issue 8 item 10) ---------------------------------------

@dataclass(frozen=True)
class VendorWork:
    proposals: list[Submission]            # the company's proposals, newest exercise first
    reconfirm: list[Submission]            # submitted, an addendum changed the requirements, still open
    to_acknowledge: list[tuple[Exercise, list[Addendum]]]  # open exercises the company takes part in
    unread: list[Notification]             # the latest unread notifications
    unread_count: int


def _taking_part(vendor_id: int):
    """Ids of the exercises the company takes part in: a proposal, registered interest or an invitation."""
    return sa.union(sa.select(Submission.exercise_id).where(Submission.vendor_id == vendor_id),
                    sa.select(InterestRegistration.exercise_id).where(InterestRegistration.vendor_id == vendor_id),
                    sa.select(Invitation.exercise_id).where(Invitation.vendor_id == vendor_id))


def _open_now(now):
    return sa.and_(Exercise.state == ExerciseState.published, Exercise.closes_at > now)


def vendor_work(user: User, now, *, notifications: int = 5) -> VendorWork:
    proposals = list(db.session.scalars(
        sa.select(Submission).join(Exercise, Exercise.id == Submission.exercise_id)
        .where(Submission.vendor_id == user.vendor_id).options(so.contains_eager(Submission.exercise))
        .order_by(Exercise.closes_at.desc().nulls_last(), Exercise.id.desc())))
    reconfirm = [s for s in proposals if s.is_submitted and s.needs_reconfirmation and s.exercise.is_open]
    acknowledged = sa.select(Acknowledgement.addendum_id).where(Acknowledgement.vendor_id == user.vendor_id)
    pending = db.session.execute(
        sa.select(Exercise, Addendum).join(Addendum, Addendum.exercise_id == Exercise.id)
        .where(_open_now(now), Exercise.id.in_(_taking_part(user.vendor_id)), Addendum.id.not_in(acknowledged))
        .order_by(Exercise.closes_at, Exercise.id, Addendum.number)).all()
    by_exercise: dict[int, tuple[Exercise, list[Addendum]]] = {}
    for exercise, addendum in pending:
        by_exercise.setdefault(exercise.id, (exercise, []))[1].append(addendum)
    unread_filter = sa.and_(Notification.user_id == user.id, Notification.read_at.is_(None))
    unread = list(db.session.scalars(sa.select(Notification).where(unread_filter)
                                     .order_by(Notification.created_at.desc(), Notification.id.desc())
                                     .limit(notifications)))
    count = db.session.scalar(sa.select(sa.func.count(Notification.id)).where(unread_filter))
    return VendorWork(proposals, reconfirm, list(by_exercise.values()), unread, count)


@dataclass(frozen=True)
class OfficerWork:
    stages: list[tuple[ExerciseState, int]]            # exercises by the state the clock implies, with counts
    questions: list[tuple[Exercise, int]]              # unanswered clarification questions per exercise
    closing_soon: list[Exercise]                       # open exercises closing within `days`
    openings: list[Opening]                            # started, awaiting a second officer
    incidents: list[DeadlineIncident]                  # awaiting a second officer's confirmation
    late_attempts: list[tuple[Exercise, int, datetime]]  # refused late actions in the last `days`, per exercise
    scheduled: list[Exercise]                          # drafts whose publication is ordered for a date ahead


def _effective_state_column(now):
    """ExerciseState as the clock implies it (a published exercise past closing is closed), in SQL."""
    return sa.case((sa.and_(Exercise.state == ExerciseState.published, Exercise.closes_at <= now),
                    ExerciseState.closed.value), else_=Exercise.state)


def officer_work(now, *, days: int = 7) -> OfficerWork:
    state = _effective_state_column(now).label("state")
    counts = dict(db.session.execute(sa.select(state, sa.func.count(Exercise.id)).group_by(state)).all())
    stages = [(s, counts[s.value]) for s in ExerciseState if counts.get(s.value)]
    questions = db.session.execute(
        sa.select(Exercise, sa.func.count(Clarification.id)).join(Clarification, Clarification.exercise_id == Exercise.id)
        .where(Clarification.published_at.is_(None)).group_by(Exercise.id)
        .order_by(sa.func.min(Clarification.asked_at))).all()
    closing_soon = list(db.session.scalars(sa.select(Exercise).where(
        _open_now(now), Exercise.closes_at <= now + timedelta(days=days)).order_by(Exercise.closes_at)))
    openings = list(db.session.scalars(sa.select(Opening).where(Opening.state == OpeningState.started)
                                       .order_by(Opening.started_at)))
    incidents = list(db.session.scalars(sa.select(DeadlineIncident).where(
        DeadlineIncident.state == IncidentState.pending).order_by(DeadlineIncident.recorded_at)))
    late = db.session.execute(
        sa.select(Exercise, sa.func.count(LateAttempt.id), sa.func.max(LateAttempt.received_at))
        .join(LateAttempt, LateAttempt.exercise_id == Exercise.id)
        .where(LateAttempt.received_at >= now - timedelta(days=days)).group_by(Exercise.id)
        .order_by(sa.func.max(LateAttempt.received_at).desc())).all()
    scheduled = list(db.session.scalars(sa.select(Exercise).where(
        Exercise.state == ExerciseState.draft, Exercise.publication_ordered_by_id.is_not(None))
        .order_by(Exercise.publication_at)))
    return OfficerWork(stages, [tuple(r) for r in questions], closing_soon, openings, incidents,
                       [tuple(r) for r in late], scheduled)
