"""PDF documents of the eoi area: the vendor's submission receipt and the opening record."""
from __future__ import annotations

import json

from flask_babel import lazy_gettext as _l

from app.audit import chain_head
from app.documents.models import Document
from app.documents.service import DocumentSpec, document_builder
from app.extensions import db
from eoi import queries
from eoi.models import Exercise, SubmissionVersion


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
    exercise = db.session.get(Exercise, doc.subject_id)
    submissions = queries.standing_submissions(exercise)  # the opening page counts the same query
    late = queries.late_attempts(exercise)
    from app.auth.models import User
    return DocumentSpec("pdf/opening_record.html", {
        "exercise": exercise, "submissions": submissions, "late_attempts": late, "document": doc,
        "first_officer": db.session.get(User, exercise.first_opener_id),
        "second_officer": db.session.get(User, exercise.second_opener_id),
        "chain_head": chain_head(),
    })
