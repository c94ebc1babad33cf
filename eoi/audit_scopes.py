"""The eoi area's sealed activity in the audit log: what a submission's events belong to, and which exercises
are still sealed. Before opening, the audit page shows these events only as counts across vendors (finding 13)."""
from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

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


#: What the area's audit action codes and object types mean (shown beside the codes on the audit page).
ACTION_LABELS = {
    "addendum.acknowledged": _l("Addendum acknowledged"),
    "clarification.asked": _l("Question asked"),
    "clarification.published": _l("Clarification published"),
    "deadline_incident.confirmed": _l("Deadline incident confirmed"),
    "deadline_incident.declined": _l("Deadline incident declined"),
    "deadline_incident.recorded": _l("Deadline incident recorded"),
    "exercise.addendum_issued": _l("Addendum issued"),
    "exercise.cancelled": _l("Exercise cancelled"),
    "exercise.closed": _l("Exercise closed"),
    "exercise.created": _l("Exercise created"),
    "exercise.deadline_extended": _l("Closing time extended"),
    "exercise.document_added": _l("Exercise document added"),
    "exercise.document_downloaded": _l("Exercise document downloaded"),
    "exercise.interest_registered": _l("Interest registered"),
    "exercise.opened": _l("Tender box opened"),
    "exercise.price_opened": _l("Price envelopes opened"),
    "exercise.price_opening_refused": _l("Price opening refused"),
    "exercise.opening_officers_rekeyed": _l("Opening officers re-keyed"),
    "exercise.opening_officers_named": _l("Opening officers named"),
    "exercise.opening_reauth_throttled": _l("Opening password attempts throttled"),
    "exercise.opening_started": _l("Opening started"),
    "exercise.price_item_added": _l("Price schedule line added"),
    "exercise.price_item_deleted": _l("Price schedule line deleted"),
    "exercise.published": _l("Exercise published"),
    "exercise.publication_ordered": _l("Publication ordered for its date"),
    "exercise.publication_order_withdrawn": _l("Publication order withdrawn"),
    "exercise.publication_failed": _l("Publication at its date failed"),
    "exercise.reopened_by_incident": _l("Exercise reopened after an incident"),
    "exercise.section_added": _l("Section added"),
    "exercise.section_deleted": _l("Section deleted"),
    "exercise.section_moved": _l("Section moved"),
    "exercise.section_updated": _l("Section updated"),
    "exercise.updated": _l("Exercise updated"),
    "exercise.vendors_invited": _l("Vendors invited"),
    "opening.cancelled": _l("Opening cancelled"),
    "opening.completed": _l("Opening completed"),
    "submission.draft_saved": _l("Draft saved"),
    "submission.file_added": _l("File added to a proposal"),
    "submission.file_downloaded": _l("Proposal file downloaded"),
    "submission.file_removed": _l("File removed from a proposal"),
    "submission.prices_saved": _l("Prices saved"),
    "submission.reconfirmed": _l("Proposal re-confirmed"),
    "submission.refused_late": _l("Late action refused"),
    "submission.reopened": _l("Proposal reopened for editing"),
    "submission.started": _l("Proposal started"),
    "submission.submitted": _l("Proposal submitted"),
    "submission.withdrawn": _l("Proposal withdrawn"),
    "vendor.subscriptions_changed": _l("Service cluster subscriptions changed"),
}

OBJECT_LABELS = {
    "OpeningKey": _l("Opening key"),
    "OpeningKeyShare": _l("Opening key share"),
    "Acknowledgement": _l("Acknowledgement"),
    "Addendum": _l("Addendum"),
    "Answer": _l("Answer"),
    "Clarification": _l("Clarification"),
    "ClusterSubscription": _l("Cluster subscription"),
    "DeadlineIncident": _l("Deadline incident"),
    "Exercise": _l("Exercise"),
    "ExerciseDocument": _l("Exercise document"),
    "InterestRegistration": _l("Interest registration"),
    "Invitation": _l("Invitation"),
    "LateAttempt": _l("Late attempt"),
    "Opening": _l("Opening"),
    "OpeningOfficer": _l("Opening officer"),
    "PriceItem": _l("Price schedule line"),
    "PriceLine": _l("Price line"),
    "Section": _l("Section"),
    "ServiceCluster": _l("Service cluster"),
    "Submission": _l("Proposal"),
    "SubmissionFile": _l("Proposal file"),
    "SubmissionVersion": _l("Submitted version"),
}

def register_audit_labels(registry) -> None:
    registry.add_audit_labels(ACTION_LABELS, OBJECT_LABELS)
