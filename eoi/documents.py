"""PDF documents of the eoi area: the vendor's submission receipt and the opening record."""
from __future__ import annotations

import json

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.audit.checkpoints import write_checkpoint
from app.documents.models import Document
from app.documents.service import DocumentSpec, document_builder
from app.extensions import db
from eoi.models import Exercise, LateAttempt, Submission, SubmissionVersion


@document_builder("submission_receipt", _l("Submission receipt"))
def build_submission_receipt(doc: Document) -> DocumentSpec:
    """The receipt lists what arrived (file names, sizes, hashes) — the vendor's own content, sent to it only."""
    version = db.session.get(SubmissionVersion, doc.subject_id)
    manifest = json.loads(version.manifest)
    return DocumentSpec("pdf/submission_receipt.html", {
        "version": version, "submission": version.submission, "exercise": version.submission.exercise,
        "files": manifest["files"], "answer_count": len(manifest["answers"]), "priced": bool(manifest["prices"]),
    })


@document_builder("opening_record", _l("Opening record"))
def build_opening_record(doc: Document) -> DocumentSpec:
    """Rendered after the opening commits; signs a checkpoint of the audit chain's head and prints it (invariant 10)."""
    exercise = db.session.get(Exercise, doc.subject_id)
    submissions = db.session.scalars(sa.select(Submission).where(
        Submission.exercise_id == exercise.id, Submission.standing()).order_by(Submission.submitted_at)).all()
    late = db.session.scalars(sa.select(LateAttempt).where(LateAttempt.exercise_id == exercise.id)
                              .order_by(LateAttempt.received_at)).all()
    from app.auth.models import User
    return DocumentSpec("pdf/opening_record.html", {
        "exercise": exercise, "submissions": submissions, "late_attempts": late, "document": doc,
        "first_officer": db.session.get(User, exercise.first_opener_id),
        "second_officer": db.session.get(User, exercise.second_opener_id),
        "audit": write_checkpoint(),
    })
