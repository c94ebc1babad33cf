"""The eoi area's sealed activity in the audit log: what a submission's events belong to, and which exercises
are still sealed. Before opening, the audit page shows these events only as counts across vendors (finding 13)."""
from __future__ import annotations

import sqlalchemy as sa
from app.documents.models import Document
from app.extensions import db
from eoi.models import Exercise, LateAttempt, Submission, SubmissionVersion


def _scope(exercise_id, vendor_id) -> tuple[str, str | None] | None:
    if exercise_id is None:
        return None
    return f"exercise:{exercise_id}", (f"vendor:{vendor_id}" if vendor_id is not None else None)


def _submission(submission: Submission):
    exercise_id = submission.exercise_id if submission.exercise_id is not None else submission.exercise.id
    vendor_id = submission.vendor_id if submission.vendor_id is not None else submission.vendor.id
    return _scope(exercise_id, vendor_id)


def _late_attempt(attempt: LateAttempt):
    return _scope(attempt.exercise_id, attempt.vendor_id)


def _document(doc: Document):
    """A submission receipt (its size and hash would tell who submitted what) belongs to the submission."""
    if doc.kind != "submission_receipt":
        return None
    version = db.session.get(SubmissionVersion, doc.subject_id)
    return _submission(version.submission) if version is not None else None


def _sealed_exercises() -> sa.Select:
    scope = sa.literal("exercise:") + sa.cast(Exercise.id, sa.String)
    return sa.select(scope.label("scope"), Exercise.reference.label("label")).where(Exercise.opened_at.is_(None))


def register_sealed_activity(registry) -> None:
    """Declare to the core (app/hooks.py) which audit events are about sealed submissions, and which are sealed now."""
    for model, seal in ((Submission, _submission), (LateAttempt, _late_attempt), (Document, _document)):
        registry.add_audit_seal(model, seal)
    registry.add_sealed_scopes("exercises-not-opened", _sealed_exercises)
